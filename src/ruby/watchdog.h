/* watchdog: the MTA must not wait forever for a handler that loops. mruby 3.1
 * as Debian builds it cannot interrupt a running VM (no debug hook; see
 * MRUBY-LIBMILTER-NOTES.md), so when a handler runs past handler_timeout the
 * watchdog closes that MTA connection: the MTA sees the milter go away and
 * applies its milter_default_action (tempfail: the mail stays with the client),
 * every other session goes on, and the stuck VM is given up and replaced in
 * the pool. The runaway thread keeps its CPU until pmilter restarts; each one
 * is logged as an error. */
#ifndef PM_WATCHDOG_H
#define PM_WATCHDOG_H
#include <time.h>

#include "core/phase.h"
#include "ruby/vm_pool.h"

/* The calling thread's watch slot (watchdog.c): one per libmilter worker,
 * reused for each of its handler runs, so a run is watched without a lock. */
typedef struct pm_watch pm_watch_t;

void pm_watchdog_start(int timeout_seconds);
void pm_watchdog_stop(void);

/* Brackets one handler run on the calling thread, which began at start
 * (CLOCK_MONOTONIC). holds_message: the session is inside a message.
 * pm_watch_end returns 1 if the watchdog fired: the VM then belongs to nobody
 * (the pool has already replaced it). */
pm_watch_t *pm_watch_begin(const struct timespec *start, int fd, unsigned long session, pm_phase_t phase,
                           const char *script, pm_vm_pool_t *pool, int holds_message);
int pm_watch_end(pm_watch_t *w);
/* How many handlers are stuck right now, and how many of them hold a message
 * open (a stop need not wait for those messages: they never end). */
int pm_watchdog_stuck(void);
int pm_watchdog_stuck_in_messages(void);

/* The MTA connection the calling libmilter worker is serving (milter_input.c). */
int pm_current_mta_fd(void);

#endif
