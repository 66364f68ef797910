/* milter_accept: no busy loop in libmilter's listener when out of file
 * descriptors (see milter_accept.c). Threads: main, before smfi_main. */
#ifndef PM_MILTER_ACCEPT_H
#define PM_MILTER_ACCEPT_H

/* Guards accept() on listen_fd and opens the reserve descriptor. */
void pm_accept_guard(int listen_fd);

#endif
