/* signals: prompt, clean stop on SIGTERM/SIGINT/SIGHUP.
 * libmilter's own signal thread calls sigwait(); the binary is linked with
 * -Wl,--wrap=sigwait so that we see the signal too. libmilter then waits for
 * its listener's poll timeout (5 s) before smfi_main returns; we cut that to
 * ~10 ms by poking our own listening socket until it does. */
#ifndef PM_SIGNALS_H
#define PM_SIGNALS_H

#include "core/config.h"

/* Blocks the signals in the calling thread (call before any thread starts)
 * and keeps a copy of the listen address for the pokes. SIGUSR1 stays
 * blocked until pm_signals_start_reload. */
void pm_signals_init(const pm_config_t *cfg, const char *conf_path);
/* Starts the thread that reloads conf_path on SIGUSR1: only once privileges
 * are dropped and the first generation is installed. */
void pm_signals_start_reload(void);
/* Stops the poking thread (after smfi_main returned). */
void pm_signals_done(void);

#endif
