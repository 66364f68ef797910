/* notify: the systemd readiness protocol (sd_notify(3)) without libsystemd:
 * one datagram to $NOTIFY_SOCKET per state change. Any thread may call it. */
#ifndef PM_NOTIFY_H
#define PM_NOTIFY_H

/* Sends state ("READY=1", "STOPPING=1", ...; lines joined by \n) when
 * pmilter runs under a service manager; nothing otherwise. */
void pm_notify(const char *state);
/* RELOADING=1 with MONOTONIC_USEC, as Type=notify-reload wants. */
void pm_notify_reloading(void);

#endif
