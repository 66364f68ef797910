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

typedef struct pm_watch {
    struct pm_watch *prev, *next;
    struct timespec start;
    int fd;                /* the MTA connection, -1 if unknown */
    unsigned long session; /* for the log */
    pm_phase_t phase;
    const char *script;    /* handler file, for the log */
    pm_vm_pool_t *pool;    /* told to forget the stuck VM */
    int fired;             /* the watchdog gave up on this call */
    int holds_message;     /* set before pm_watch_begin: the session is inside a message */
} pm_watch_t;

void pm_watchdog_start(int timeout_seconds);
void pm_watchdog_stop(void);
/* Brackets one handler run. pm_watch_end returns 1 if the watchdog fired:
 * the VM then belongs to nobody (the pool has already replaced it). */
void pm_watch_begin(pm_watch_t *w, int fd, unsigned long session, pm_phase_t phase, const char *script,
                    pm_vm_pool_t *pool);
int pm_watch_end(pm_watch_t *w);
/* How many handlers are stuck right now, and how many of them hold a message
 * open (a stop need not wait for those messages: they never end). */
int pm_watchdog_stuck(void);
int pm_watchdog_stuck_in_messages(void);

/* The MTA connection the calling libmilter worker is serving (milter_input.c). */
int pm_current_mta_fd(void);

#endif
