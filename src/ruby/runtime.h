/* runtime: one generation of what serving needs: the config snapshot, the
 * compiled handlers and the VM pool built from them. A session keeps the
 * generation it started with until it closes, so SIGUSR1 (reload) can put a
 * new generation in place while sessions in flight finish on the old one,
 * which is freed when its last session closes. Thread-safe. */
#ifndef PM_RUNTIME_H
#define PM_RUNTIME_H
#include <stdatomic.h>
#include <stddef.h>

#include "core/config.h"
#include "ruby/script.h"
#include "ruby/vm_pool.h"

typedef struct pm_runtime {
    pm_config_t *cfg;
    pm_scripts_t *scripts;
    pm_vm_pool_t *pool; /* NULL until pm_runtime_start */
    atomic_int refs;    /* sessions using it, +1 while it is the current one */
} pm_runtime_t;

/* Loads and checks the config (logging its warnings) and compiles every
 * handler. NULL with the reason in err. */
pm_runtime_t *pm_runtime_load(const char *conf_path, char *err, size_t errlen);
/* Creates the VM pool (min_worker VMs, libraries run). -1 with err. */
int pm_runtime_start(pm_runtime_t *rt, char *err, size_t errlen);
/* Frees a generation nobody uses (start-up failures). */
pm_runtime_t *pm_runtime_free(pm_runtime_t *rt);

/* Makes rt the current generation (and drops the reference to the previous one). */
void pm_runtime_install(pm_runtime_t *rt);
/* The current generation, with a reference taken; NULL before install. */
pm_runtime_t *pm_runtime_acquire(void);
/* Another reference to rt (which the caller holds one of); returns rt. */
pm_runtime_t *pm_runtime_retain(pm_runtime_t *rt);
void pm_runtime_release(pm_runtime_t *rt);

/* SIGUSR1/SIGHUP: builds a new generation from conf_path (in its own thread)
 * and installs it. On any error the running one stays and the error is
 * logged. Bounded: a reload that has not finished after handler_timeout + 10 s
 * (a library or postconfig that never returns) is given up and logged, its
 * result discarded if it ever comes, so the next reload can run. 0 if reloaded. */
int pm_runtime_reload(const char *conf_path);

#endif
