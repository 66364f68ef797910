/* milter: the libmilter side. One xxfi_* callback per phase, all alike: find
 * the session, borrow a VM, run the phase's handler, map Pmilter.status to an
 * sfsistat. Negotiates only the phases that have a handler. */
#ifndef PM_MILTER_H
#define PM_MILTER_H

#include "config.h"
#include "script.h"
#include "vm_pool.h"

/* Serves MTA connections accepted on listen_fd until a stop signal; returns
 * once in-flight callbacks have finished (or grace_seconds passed). 0 on a
 * clean stop, -1 if libmilter failed to start (reason logged). */
int pm_milter_run(const pm_config_t *cfg, const pm_scripts_t *scripts, pm_vm_pool_t *pool, int listen_fd,
                  int grace_seconds);

/* Runs a process-level handler (postconfig, master_exit) on a pool VM.
 * Returns 0, or -1 after logging the exception. */
int pm_milter_run_process_handler(const pm_config_t *cfg, const pm_scripts_t *scripts, pm_vm_pool_t *pool,
                                  pm_phase_t phase);

#endif
