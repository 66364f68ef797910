/* runtime: generations of config + handlers + VM pool, and reload (see runtime.h).
 * Threads: any; reloads come from the signal thread one at a time. */
#include "ruby/runtime.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "metrics/metrics.h"
#include "core/privileges.h"
#include "ruby/runner.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pm_runtime_t *current;

pm_runtime_t *pm_runtime_load(const char *conf_path, char *err, size_t errlen)
{
    pm_config_t *cfg = pm_config_load(conf_path, err, errlen);
    if (cfg == NULL)
        return NULL;
    for (size_t i = 0; i < cfg->n_warnings; i++)
        pm_warn("%s", cfg->warnings[i]);
    pm_scripts_t *scripts = NULL;
    if (pm_privileges_check_files(cfg, err, errlen) != 0 || (scripts = pm_scripts_compile(cfg, err, errlen)) == NULL) {
        pm_config_free(cfg);
        return NULL;
    }
    pm_runtime_t *rt = pm_calloc(1, sizeof *rt);
    rt->cfg = cfg;
    rt->scripts = scripts;
    return rt;
}

int pm_runtime_start(pm_runtime_t *rt, char *err, size_t errlen)
{
    rt->pool = pm_vm_pool_new(rt->scripts, rt->cfg->min_worker, rt->cfg->max_worker,
                              (size_t)rt->cfg->handler_memory << 20, err, errlen);
    return rt->pool ? 0 : -1;
}

pm_runtime_t *pm_runtime_free(pm_runtime_t *rt)
{
    if (rt) {
        pm_vm_pool_free(rt->pool);
        pm_scripts_free(rt->scripts);
        pm_config_free(rt->cfg);
        free(rt);
    }
    return NULL;
}

/* The lock orders installs against acquires: while it is held, current's own
 * reference keeps it alive, so an acquire can count itself in. Retain and
 * release (several per connection) are plain atomic counts. */
void pm_runtime_install(pm_runtime_t *rt)
{
    atomic_fetch_add(&rt->refs, 1);
    pthread_mutex_lock(&lock);
    pm_runtime_t *old = current;
    current = rt;
    pthread_mutex_unlock(&lock);
    if (old)
        pm_runtime_release(old);
}

pm_runtime_t *pm_runtime_acquire(void)
{
    pthread_mutex_lock(&lock);
    pm_runtime_t *rt = current;
    if (rt)
        atomic_fetch_add_explicit(&rt->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&lock);
    return rt;
}

pm_runtime_t *pm_runtime_retain(pm_runtime_t *rt)
{
    int was = atomic_fetch_add_explicit(&rt->refs, 1, memory_order_relaxed);
    assert(was > 0); /* the caller holds a reference */
    (void)was;
    return rt;
}

void pm_runtime_release(pm_runtime_t *rt)
{
    int was = atomic_fetch_sub_explicit(&rt->refs, 1, memory_order_acq_rel); /* the freeing thread sees every use */
    assert(was > 0); /* a release without its acquire would free a generation in use */
    if (was == 1) {
        pm_debug("freeing a configuration generation nobody uses any more");
        pm_runtime_free(rt);
    }
}

/* Settings that take effect only at start: changing them needs a restart. */
static void warn_restart_only(const pm_config_t *old, const pm_config_t *new)
{
    static const struct {
        const char *key;
        size_t offset;
    } keys[] = {
        {"listen", offsetof(pm_config_t, listen)},
        {"user", offsetof(pm_config_t, user)},
        {"group", offsetof(pm_config_t, group)},
        {"listen_owner", offsetof(pm_config_t, listen_owner)},
        {"listen_group", offsetof(pm_config_t, listen_group)},
        {"log_target", offsetof(pm_config_t, log_target)},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *a = *(char *const *)((const char *)old + keys[i].offset);
        const char *b = *(char *const *)((const char *)new + keys[i].offset);
        if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
            pm_warn("reload: server.%s changed; that takes a restart, the running value stays", keys[i].key);
    }
    if (old->listen_mode != new->listen_mode || old->listen_backlog != new->listen_backlog ||
        old->timeout != new->timeout || old->handler_timeout != new->handler_timeout)
        pm_warn("reload: listen_mode, listen_backlog, timeout and handler_timeout take a restart");
    if (old->log_facility != new->log_facility || old->log_json != new->log_json)
        pm_warn("reload: log_facility and log_format take a restart");
}

/* Builds and checks a new generation: config, handlers, VMs, postconfig.
 * NULL after logging why. */
static pm_runtime_t *build_generation(const char *conf_path)
{
    char err[1024];
    pm_runtime_t *rt = pm_runtime_load(conf_path, err, sizeof err);
    if (rt == NULL || pm_runtime_start(rt, err, sizeof err) != 0) {
        pm_error("reload failed, the running configuration stays: %s", err);
        return pm_runtime_free(rt);
    }
    if (pm_runner_run_process_handler(rt, PM_PHASE_POSTCONFIG) != 0) {
        pm_error("reload failed (postconfig handler), the running configuration stays");
        return pm_runtime_free(rt);
    }
    return rt;
}

static void install_generation(pm_runtime_t *rt, const char *conf_path)
{
    pm_runtime_t *old = pm_runtime_acquire();
    if (old) {
        warn_restart_only(old->cfg, rt->cfg);
        pm_runtime_release(old);
    }
    pm_log_set_level(rt->cfg->log_level);
    pm_runtime_install(rt);
    pm_notice("reloaded %s: new sessions use it, sessions in flight finish on the previous one", conf_path);
}

/* One reload, shared by the thread that runs it and the caller waiting for
 * it; freed by whichever of the two lets go last. */
typedef struct reload_job {
    char *conf_path;
    int done, abandoned, result;
} reload_job_t;

static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t job_finished = PTHREAD_COND_INITIALIZER;

static void job_free(reload_job_t *job)
{
    free(job->conf_path);
    free(job);
}

static void *run_reload_job(void *arg)
{
    reload_job_t *job = arg;
    pm_runtime_t *rt = build_generation(job->conf_path);
    pthread_mutex_lock(&job_lock);
    if (job->abandoned) {
        pthread_mutex_unlock(&job_lock);
        pm_warn("a reload given up on earlier has finished; its result is discarded");
        pm_runtime_free(rt);
        job_free(job);
        return NULL;
    }
    if (rt)
        install_generation(rt, job->conf_path); /* under job_lock: the caller cannot give up meanwhile */
    job->result = rt ? 0 : -1;
    pm_metrics_reload(rt != NULL);
    job->done = 1;
    pthread_cond_signal(&job_finished);
    pthread_mutex_unlock(&job_lock);
    return NULL;
}

/* How long a reload may take: postconfig is bounded by handler_timeout (the
 * watchdog), compiling and loading libraries into new VMs by this margin. */
static int reload_bound_seconds(void)
{
    pm_runtime_t *rt = pm_runtime_acquire();
    int bound = (rt ? rt->cfg->handler_timeout : 30) + 10;
    if (rt)
        pm_runtime_release(rt);
    return bound;
}

int pm_runtime_reload(const char *conf_path)
{
    pm_notice("reloading %s", conf_path);
    reload_job_t *job = pm_calloc(1, sizeof *job);
    job->conf_path = pm_strdup(conf_path);
    pthread_t thread;
    if (pthread_create(&thread, NULL, run_reload_job, job) != 0) {
        pm_error("reload failed, the running configuration stays: cannot start a thread");
        job_free(job);
        return -1;
    }
    pthread_detach(thread);
    int bound = reload_bound_seconds();
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += bound;
    pthread_mutex_lock(&job_lock);
    while (!job->done && pthread_cond_timedwait(&job_finished, &job_lock, &deadline) == 0)
        ;
    int done = job->done, result = job->result;
    job->abandoned = !done;
    pthread_mutex_unlock(&job_lock);
    if (!done) {
        pm_error("reload of %s did not finish within %d s (a library or postconfig handler that never returns?): "
                 "given up, the running configuration stays; later reloads run as usual",
                 conf_path, bound);
        return -1;
    }
    job_free(job);
    return result;
}
