/* runner: runs one handler. Borrows a VM from the generation's pool, watches
 * it (watchdog.h), runs the phase's proc, gives the VM back and reports an
 * exception as "file:line: message (Class)". Called by the libmilter adapter
 * for session phases, and by main and reload for postconfig and master_exit.
 * Thread-safe: any thread with a reference to rt. */
#ifndef PM_RUNNER_H
#define PM_RUNNER_H
#include <stddef.h>

#include "core/phase.h"
#include "milter/session.h"
#include "ruby/runtime.h"

/* Does rt run a handler in this phase? */
int pm_runner_has_handler(const pm_runtime_t *rt, pm_phase_t phase);
/* Runs call->phase's handler with call as its context. 0, or -1 with the
 * exception, the watchdog's verdict, or why no VM could be had in err. */
int pm_runner_run(pm_runtime_t *rt, pm_call_t *call, char *err, size_t errlen);
/* Runs a process-level handler (postconfig, master_exit) with no session.
 * 0 (also when there is none), or -1 after logging the exception. */
int pm_runner_run_process_handler(pm_runtime_t *rt, pm_phase_t phase);

#endif
