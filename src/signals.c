/* signals: see signals.h. */
#include "signals.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"

static const pm_config_t *poke_cfg;
static atomic_int stopping, done;
static pthread_t poker;

int __real_sigwait(const sigset_t *set, int *sig);
int __wrap_sigwait(const sigset_t *set, int *sig);

static void *poke_until_done(void *arg)
{
    (void)arg;
    while (!atomic_load(&done)) {
        pm_listener_poke(poke_cfg);
        usleep(10000);
    }
    return NULL;
}

int __wrap_sigwait(const sigset_t *set, int *sig)
{
    int rc = __real_sigwait(set, sig);
    if (rc == 0 && poke_cfg && !atomic_exchange(&stopping, 1)) {
        pm_notice("received signal %d, stopping", *sig);
        if (pthread_create(&poker, NULL, poke_until_done, NULL) != 0)
            atomic_store(&stopping, 0);
    }
    return rc;
}

void pm_signals_init(const pm_config_t *cfg)
{
    poke_cfg = cfg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    /* An MTA that hangs up mid-reply must not kill the process. */
    signal(SIGPIPE, SIG_IGN);
}

void pm_signals_done(void)
{
    atomic_store(&done, 1);
    if (atomic_load(&stopping))
        pthread_join(poker, NULL);
}
