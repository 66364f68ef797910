/* milter: the libmilter side. One xxfi_* callback per phase, all alike: find
 * the session, borrow a VM, run the phase's handler, map Pmilter.status to an
 * sfsistat. Negotiates only the phases that have a handler.
 * Threads: pm_milter_prepare and pm_milter_run on main; the callbacks on libmilter's workers;
 * pm_milter_drain on the signal thread. */
#ifndef PM_MILTER_H
#define PM_MILTER_H

#include "core/config.h"
#include "core/phase.h"

/* Hands libmilter the settings fixed at start (cfg is not read afterwards, so
 * a reload may free it) and the socket listen_fd. 0, or -1 if libmilter
 * refused them (logged). */
int pm_milter_prepare(const pm_config_t *cfg, int listen_fd);

/* Serves MTA connections with the current runtime generation (runtime.h)
 * until a stop signal; returns once in-flight callbacks have finished (or
 * shutdown_grace passed). 0 on a clean stop, -1 if libmilter failed (logged). */
int pm_milter_run(void);

/* Stop, part one (from the signal thread, before libmilter is told): new
 * sessions and new messages get tempfail, and messages in progress get up to
 * grace_seconds to end. */
void pm_milter_drain(int grace_seconds);

#endif
