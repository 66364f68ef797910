/* signals: see signals.h. */
#include "core/signals.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/listener.h"
#include "core/log.h"
#include "core/notify.h"
#include "kv/kv.h"
#include "milter/milter.h"
#include "ruby/runtime.h"

static pm_config_t poke_cfg; /* a copy of the listen address: generations come and go */
static const pm_config_t *poke_target;
static char *reload_path;
static int grace_seconds; /* shutdown_grace, fixed at start */
static pthread_t reloader;
static atomic_int stopping, done;
static pthread_t poker;
/* Set by libmilter's signal thread, read by main after smfi_main returns. */
static atomic_int poker_started;

int __real_sigwait(const sigset_t *set, int *sig);
int __wrap_sigwait(const sigset_t *set, int *sig);

static void *poke_until_done(void *arg)
{
    (void)arg;
    while (!atomic_load(&done)) {
        pm_listener_poke(poke_target);
        usleep(10000);
    }
    return NULL;
}

/* libmilter's own stop can hang: its pool controller destroys its mutex when
 * it sees the stop, and a worker or the listener taking that mutex afterwards
 * waits forever (seen under gdb: the mutex destroyed, __kind -1, and left
 * locked, after 1000 connections closed as SIGTERM came). Messages were
 * drained before libmilter was told to stop, so after STUCK_STOP_MS the stop
 * is finished here: the store's snapshot is written, the reason logged, and
 * the process exits 1 (master_exit does not run: its thread is the one
 * stuck). A thread of its own: the poker may be blocked in connect() on a
 * listener that no longer accepts. */
#define STUCK_STOP_MS 10000
static atomic_int stop_claimed; /* by main (a normal stop) or by the guard (a stuck one) */

static void *guard_stop(void *arg)
{
    (void)arg;
    for (int waited = 0; waited < STUCK_STOP_MS; waited += 10) {
        if (atomic_load(&done))
            return NULL;
        usleep(10000);
    }
    if (atomic_exchange(&stop_claimed, 1))
        return NULL; /* main got there first */
    pm_error("libmilter did not finish stopping within %d s (its worker pool is stuck); exiting without master_exit",
             STUCK_STOP_MS / 1000);
    pm_kv_persist_stop();
    _exit(1);
}

/* libmilter's signal thread: SIGHUP reloads (as in Postfix and OpenDKIM)
 * and libmilter never sees it; TERM and INT stop. */
int __wrap_sigwait(const sigset_t *set, int *sig)
{
    int rc;
    while ((rc = __real_sigwait(set, sig)) == 0 && *sig == SIGHUP && poke_target) {
        pm_notice("received SIGHUP: reloading");
        kill(getpid(), SIGUSR1); /* the reload thread takes it; several coalesce */
    }
    if (rc == 0 && poke_target && !atomic_exchange(&stopping, 1)) {
        pm_notice("received signal %d, stopping", *sig);
        pm_notify("STOPPING=1");
        /* Messages in progress finish first: libmilter stops serving every
         * session as soon as it sees the signal. */
        pm_milter_drain(grace_seconds);
        atomic_store(&poker_started, pthread_create(&poker, NULL, poke_until_done, NULL) == 0);
        pthread_t guard;
        if (pthread_create(&guard, NULL, guard_stop, NULL) == 0)
            pthread_detach(guard);
    }
    return rc;
}

/* SIGUSR1 and SIGUSR2 are ours alone: libmilter's signal thread waits for
 * HUP/TERM/INT. pm_runtime_reload is bounded (runtime.h), so a reload that
 * hangs cannot stop later ones. SIGUSR2 reopens a log file (logrotate). */
static void *reload_on_usr1(void *arg)
{
    (void)arg;
    sigset_t usr;
    sigemptyset(&usr);
    sigaddset(&usr, SIGUSR1);
    sigaddset(&usr, SIGUSR2);
    for (;;) {
        int sig = 0;
        if (__real_sigwait(&usr, &sig) == 0 && sig == SIGUSR2) {
            pm_log_reopen();
        } else if (sig == SIGUSR1) {
            pm_notify_reloading(); /* systemd: RELOADING=1 ... READY=1 around it */
            pm_runtime_reload(reload_path);
            pm_notify("READY=1");
        }
    }
    return NULL;
}

void pm_signals_block(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    /* An MTA that hangs up mid-reply must not kill the process. */
    signal(SIGPIPE, SIG_IGN);
}

void pm_signals_init(const pm_config_t *cfg, const char *conf_path)
{
    poke_cfg.listen = pm_strdup(cfg->listen);
    poke_cfg.listen_family = cfg->listen_family;
    poke_cfg.listen_path = cfg->listen_path ? pm_strdup(cfg->listen_path) : NULL;
    poke_cfg.listen_host = cfg->listen_host ? pm_strdup(cfg->listen_host) : NULL;
    poke_cfg.listen_port = cfg->listen_port;
    poke_target = &poke_cfg;
    reload_path = pm_strdup(conf_path);
    grace_seconds = cfg->shutdown_grace;
}

void pm_signals_start_reload(void)
{
    sigset_t pending;
    if (sigpending(&pending) == 0 && (sigismember(&pending, SIGUSR1) || sigismember(&pending, SIGHUP)))
        pm_notice("a reload was asked for during start-up: it runs now");
    if (pthread_create(&reloader, NULL, reload_on_usr1, NULL) == 0)
        pthread_detach(reloader);
    else
        pm_error("cannot start the reload thread: SIGUSR1 will not reload");
}

void pm_signals_done(void)
{
    atomic_store(&done, 1);
    if (atomic_exchange(&stop_claimed, 1))
        for (;;)
            pause(); /* the guard is ending a stuck stop (_exit) */
    if (atomic_load(&poker_started))
        pthread_join(poker, NULL);
}
