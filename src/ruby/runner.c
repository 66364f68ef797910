/* runner: borrow a VM, watch, run, give back (see runner.h). */
#include "ruby/runner.h"

#include <libmilter/mfapi.h>
#include <stdio.h>
#include <time.h>

#include "core/log.h"
#include "metrics/metrics.h"
#include "ruby/mrb_mime.h"
#include "ruby/vm.h"
#include "ruby/watchdog.h"

int pm_runner_has_handler(const pm_runtime_t *rt, pm_phase_t phase)
{
    return rt->cfg->mruby_handler && rt->scripts->phase[phase] != NULL;
}

int pm_runner_run(pm_runtime_t *rt, pm_call_t *call, char *err, size_t errlen)
{
    const char *path = rt->scripts->phase[call->phase]->path;
    char why[512];
    pm_vm_t *vm = pm_vm_pool_borrow(rt->pool, why, sizeof why);
    if (vm == NULL) {
        snprintf(err, errlen, "%s: not run, no mruby VM available: %s", path, why);
        snprintf(call->error_class, sizeof call->error_class, "no_vm");
        return -1;
    }
    pm_metrics_vm_busy(1);
    clock_gettime(CLOCK_MONOTONIC, &call->started); /* also the watchdog's clock */
    pm_session_t *s = call->session;
    pm_watch_t *watch = pm_watch_begin(&call->started, s ? s->fd : -1, s ? s->id : 0, call->phase, path, rt->pool,
                                       s && s->in_message);
    int rc = pm_vm_run(vm, call, err, errlen);
    struct timespec done;
    clock_gettime(CLOCK_MONOTONIC, &done);
    pm_metrics_handler_ran(call->phase, (done.tv_sec - call->started.tv_sec) + (done.tv_nsec - call->started.tv_nsec) / 1e9);
    if (call->session) /* the per-message log line's handler_us */
        call->session->handler_us += (done.tv_sec - call->started.tv_sec) * 1000000LL + (done.tv_nsec - call->started.tv_nsec) / 1000;
    pm_metrics_vm_busy(-1);
    if (pm_watch_end(watch)) {
        /* The watchdog gave this VM up and the pool replaced it. */
        pm_warn("%s came back after the watchdog gave up on it", path);
        pm_vm_free(vm);
        snprintf(err, errlen, "%s: ran longer than handler_timeout (%d s)", path, rt->cfg->handler_timeout);
        snprintf(call->error_class, sizeof call->error_class, "timeout");
        return -1;
    }
    pm_vm_pool_give_back(rt->pool, vm);
    if (rc == 0 && call->phase == PM_PHASE_EOM)
        rc = pm_mrb_mime_apply(call, err, errlen); /* edits of s.mime reach the MTA now, all at once */
    return rc;
}

int pm_runner_run_process_handler(pm_runtime_t *rt, pm_phase_t phase)
{
    if (!pm_runner_has_handler(rt, phase))
        return 0;
    pm_call_t call = {.cfg = rt->cfg, .phase = phase, .status = SMFIS_CONTINUE};
    char err[1024];
    int rc = pm_runner_run(rt, &call, err, sizeof err);
    if (rc != 0)
        pm_error("%s (phase %s)", err, pm_phase_name(phase));
    return rc;
}
