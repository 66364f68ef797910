/* runtime: generations of config + handlers + VM pool, and reload (see runtime.h). */
#include "ruby/runtime.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
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

void pm_runtime_install(pm_runtime_t *rt)
{
    pthread_mutex_lock(&lock);
    pm_runtime_t *old = current;
    rt->refs++;
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
        rt->refs++;
    pthread_mutex_unlock(&lock);
    return rt;
}

void pm_runtime_release(pm_runtime_t *rt)
{
    pthread_mutex_lock(&lock);
    int last = --rt->refs == 0;
    pthread_mutex_unlock(&lock);
    if (last) {
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
}

int pm_runtime_reload(const char *conf_path)
{
    char err[1024];
    pm_notice("reloading %s", conf_path);
    pm_runtime_t *rt = pm_runtime_load(conf_path, err, sizeof err);
    if (rt == NULL || pm_runtime_start(rt, err, sizeof err) != 0) {
        pm_error("reload failed, the running configuration stays: %s", err);
        pm_runtime_free(rt);
        return -1;
    }
    if (pm_runner_run_process_handler(rt, PM_PHASE_POSTCONFIG) != 0) {
        pm_error("reload failed (postconfig handler), the running configuration stays");
        pm_runtime_free(rt);
        return -1;
    }
    pm_runtime_t *old = pm_runtime_acquire();
    if (old) {
        warn_restart_only(old->cfg, rt->cfg);
        pm_runtime_release(old);
    }
    pm_log_set_level(rt->cfg->log_level);
    pm_runtime_install(rt);
    pm_notice("reloaded %s: new sessions use it, sessions in flight finish on the previous one", conf_path);
    return 0;
}
