/* main: command line, then load config -> compile handlers -> VM pool ->
 * DNS resolver -> postconfig handler -> listen -> serve -> master_exit handler. Nothing else.
 * SIGUSR1 and SIGHUP reload the configuration (runtime.c). Exit status: 0 clean stop, 78 (EX_CONFIG) bad config or handler, 1 other
 * start-up failures (e.g. the socket is taken). */
#include <libmilter/mfapi.h>
#include <malloc.h>
#include <mruby/version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/listener.h"
#include "core/log.h"
#include "core/privileges.h"
#include "core/signals.h"
#include "core/version.h"
#include "auth/dkim.h"
#include "auth/dmarc.h"
#include "dns/dns.h"
#include "core/notify.h"
#include "kv/kv.h"
#include "metrics/metrics.h"
#include "milter/milter.h"
#include "ruby/runner.h"
#include "ruby/runtime.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: pmilter [-c FILE] [-t] [-v] [-h]\n"
                 "  -c FILE  configuration file (default: pmilter.conf)\n"
                 "  -t       check the configuration and every handler, then exit (0 ok, 78 bad)\n"
                 "  -v       print the version of pmilter, mruby and libmilter\n"
                 "  -h       this help\n"
                 "signals: TERM, INT stop; HUP, USR1 reload; USR2 reopens the log file. See pmilter(8).\n");
}

static void print_version(void)
{
    unsigned int major, minor, patch;
    smfi_version(&major, &minor, &patch);
    printf("pmilter/%s (mruby %s, libmilter %u.%u.%u)\n", PMILTER_VERSION, MRUBY_VERSION, major, minor, patch);
}

int main(int argc, char **argv)
{
    /* A VM is used by whichever libmilter worker runs the callback, so its heap
     * spreads over glibc's per-thread arenas and RSS creeps up as more of them
     * are touched (measured by make soak). One arena keeps it flat; glibc's
     * per-thread cache still serves most small allocations without the lock. */
    mallopt(M_ARENA_MAX, 1);
    const char *conf_path = "pmilter.conf";
    int test_only = 0, opt;
    while ((opt = getopt(argc, argv, "c:tvh")) != -1) {
        switch (opt) {
        case 'c': conf_path = optarg; break;
        case 't': test_only = 1; break;
        case 'v': print_version(); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 64;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 64;
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* handler puts/p: one line at a time */
    if (!test_only)
        pm_signals_block(); /* before anything slow: see signals.h */

    char err[1024];
    pm_runtime_t *rt = pm_runtime_load(conf_path, err, sizeof err);
    pm_ids_t ids;
    if (rt == NULL || pm_privileges_resolve(rt->cfg, &ids, err, sizeof err) != 0) {
        pm_error("%s", err);
        pm_runtime_free(rt);
        return PM_EX_CONFIG;
    }
    const pm_config_t *cfg = rt->cfg;
    pm_log_set_level(cfg->log_level);
    /* Opened as root (a log file in /var/log); -t keeps reporting on stderr. */
    if (!test_only && pm_log_open(cfg->log_target, cfg->log_facility, cfg->log_json, err, sizeof err) != 0) {
        pm_error("%s", err);
        pm_runtime_free(rt);
        return PM_EX_CONFIG;
    }
    if (test_only) {
        /* Load every handler into one VM, as serving would. That runs the
         * mruby_library files: as the configured user, never as root. */
        pm_vm_pool_t *pool = NULL;
        if (geteuid() != 0 || pm_privileges_drop(cfg, &ids, err, sizeof err) == 0)
            pool = pm_vm_pool_new(rt->scripts, 1, 1, (size_t)cfg->handler_memory << 20, err, sizeof err);
        if (pool)
            pm_notice("configuration %s and its handlers are ok", conf_path);
        else
            pm_error("%s", err);
        pm_vm_pool_free(pool);
        pm_runtime_free(rt);
        return pool ? 0 : PM_EX_CONFIG;
    }

    pm_notice("pmilter/%s starting", PMILTER_VERSION);
    pm_kv_process_start((size_t)cfg->kv_memory_limit << 20); /* kept across reloads, never freed: sessions may outlive main */
    if (cfg->kv_persist && !cfg->kv_redis)
        pm_kv_persist_start(cfg->kv_persist, cfg->kv_persist_interval); /* the saver runs as the dropped user */
    pm_signals_init(cfg, conf_path);
    int status = 0;
    /* Bind as root (the socket may live in Postfix's spool), then drop root
     * before any handler code runs. */
    int fd = pm_listener_open(cfg, &ids, err, sizeof err);
    char *socket_path = fd >= 0 && cfg->listen_family == PM_LISTEN_UNIX ? pm_strdup(cfg->listen_path) : NULL;
    if (fd < 0) {
        pm_error("%s", err);
        status = 1;
    } else if (pm_privileges_drop(cfg, &ids, err, sizeof err) != 0) {
        pm_error("%s", err);
        status = 1;
    } else if (pm_dns_start(&(pm_dns_settings_t){cfg->dns_resolver, cfg->dns_cache_size, cfg->dns_hosts_file}, err,
                            sizeof err) != 0) {
        /* Before any handler runs; kept across reloads (DESIGN.md decision 9). */
        pm_error("%s", err);
        status = PM_EX_CONFIG;
    } else if (pm_dkim_start(err, sizeof err) != 0 || pm_dmarc_start(NULL, err, sizeof err) != 0) {
        pm_error("%s", err); /* process-wide: one DKIM_LIB, one Public Suffix List */
        status = PM_EX_CONFIG;
    } else if (pm_metrics_start(cfg->metrics_listen, cfg->metrics_max_series, err, sizeof err) != 0) {
        pm_error("%s", err); /* process-wide, kept across reloads */
        status = PM_EX_CONFIG;
    } else if (pm_runtime_start(rt, err, sizeof err) != 0) {
        pm_error("%s", err);
        status = PM_EX_CONFIG;
    } else if (pm_runner_run_process_handler(rt, PM_PHASE_POSTCONFIG) != 0) {
        status = PM_EX_CONFIG;
    } else {
        if (geteuid() == 0)
            pm_warn("running handlers as root; set user and group in [server] to drop privileges");
        pm_info("listening on %s with %d VMs (max %d)", cfg->listen, cfg->min_worker, cfg->max_worker);
        pm_runtime_install(rt);
        /* libmilter reads cfg before the reload thread starts: a reload (one
         * asked for during start-up runs at once) replaces and frees it. */
        if (pm_milter_prepare(cfg, fd) != 0) {
            status = 1;
        } else {
            pm_signals_start_reload();
            pm_notify("READY=1\nSTATUS=serving"); /* the socket listens already */
            pm_notify_start(); /* STATUS lines, WatchdogSec= pings */
            if (pm_milter_run() != 0)
                status = 1;
            pm_notify_stop();
        }
        pm_signals_done();
        rt = pm_runtime_acquire(); /* the latest generation, after any reload */
        pm_runner_run_process_handler(rt, PM_PHASE_MASTER_EXIT);
        pm_kv_persist_stop();
        pm_runtime_release(rt);
        pm_notice("pmilter/%s stopped", PMILTER_VERSION);
        rt = NULL; /* owned by the runtime module now; freed with its last session */
    }
    pm_metrics_stop();
    pm_dns_stop();
    if (socket_path)
        unlink(socket_path);
    free(socket_path);
    pm_runtime_free(rt);
    return status;
}
