/* notify: what systemd (Type=notify) learns from pmilter, through libsystemd's
 * sd_notify: READY/RELOADING/STOPPING state changes, a periodic STATUS line
 * (sessions open, messages per second), and WATCHDOG=1 pings when the unit
 * sets WatchdogSec= — sent only while libmilter's accept loop is seen to
 * make progress (milter_accept.h), so a wedged daemon is restarted.
 * Without $NOTIFY_SOCKET nothing is sent and no thread is started.
 * Threads: pm_notify and pm_notify_reloading from any thread;
 * pm_notify_start/stop from main only. */
#ifndef PM_NOTIFY_H
#define PM_NOTIFY_H

/* Sends state ("READY=1", "STOPPING=1", ...; lines joined by \n). */
void pm_notify(const char *state);
/* RELOADING=1 with MONOTONIC_USEC, as Type=notify-reload wants. */
void pm_notify_reloading(void);
/* Starts the STATUS/WATCHDOG thread (once serving); stop joins it. */
void pm_notify_start(void);
void pm_notify_stop(void);

#endif
