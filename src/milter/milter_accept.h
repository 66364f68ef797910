/* milter_accept: no busy loop in libmilter's listener when out of file
 * descriptors, and a heartbeat of that listener (see milter_accept.c).
 * Threads: pm_accept_guard from main, before smfi_main;
 * pm_accept_stalled_seconds from any thread. */
#ifndef PM_MILTER_ACCEPT_H
#define PM_MILTER_ACCEPT_H

/* Guards accept() on listen_fd and opens the reserve descriptor. */
void pm_accept_guard(int listen_fd);
/* The poll wrapper (mta_read.c) saw a poll of the single descriptor fd. */
void pm_accept_polled(int fd);
/* Seconds since libmilter's listener last waited for a connection (it does
 * so at least every 5 s when healthy): the systemd watchdog's evidence. */
double pm_accept_stalled_seconds(void);

#endif
