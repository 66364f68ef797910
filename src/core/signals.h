/* signals: prompt, clean stop on SIGTERM/SIGINT; reload on SIGUSR1 and SIGHUP;
 * SIGUSR2 reopens a log file (log.h).
 * libmilter's own signal thread calls sigwait(); the binary is linked with
 * -Wl,--wrap=sigwait so that we see the signal too. SIGHUP, which libmilter
 * would treat as a stop, is turned into a reload there and libmilter keeps
 * waiting. On a stop libmilter then waits for its listener's poll timeout
 * (5 s) before smfi_main returns; we cut that to ~10 ms by poking our own
 * listening socket until it does.
 * Threads: pm_signals_block and pm_signals_init from main before any thread
 * starts; the rest from main. */
#ifndef PM_SIGNALS_H
#define PM_SIGNALS_H

#include "core/config.h"

/* Blocks TERM, INT, HUP and USR1 in the calling thread, first thing in main:
 * a signal that arrives while handlers compile and postconfig runs waits
 * (a reload runs once serving starts, a stop once libmilter listens) instead
 * of killing the process. Threads started later inherit the mask. */
void pm_signals_block(void);
/* Keeps a copy of the listen address for the pokes and the config path. */
void pm_signals_init(const pm_config_t *cfg, const char *conf_path);
/* Starts the thread that reloads conf_path on SIGUSR1 (and SIGHUP): only once
 * privileges are dropped and the first generation is installed. */
void pm_signals_start_reload(void);
/* Stops the poking thread (after smfi_main returned). */
void pm_signals_done(void);

#endif
