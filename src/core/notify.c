/* notify: sd_notify(3) messages and the STATUS/WATCHDOG thread (see
 * notify.h). The thread wakes every STATUS_EVERY seconds, or every half
 * WatchdogSec when that is shorter, and sends one datagram: STATUS=, plus
 * WATCHDOG=1 if the accept loop made progress lately. Why the accept loop
 * and not the timer alone: a timer thread keeps running in a daemon whose
 * listener is stuck (a lock, a blocked accept), so its ping would prove
 * nothing; libmilter's listener re-enters poll() at least every 5 s even
 * when idle, so a listener unseen for ACCEPT_STALL_SECONDS is wedged.
 * Failures to send are ignored, as sd_notify's are: the service manager's
 * view is advice, not a dependency. */
#include "core/notify.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "metrics/metrics.h"
#include "milter/milter_accept.h"

#define STATUS_EVERY 10         /* seconds between STATUS lines without a watchdog */
#define ACCEPT_STALL_SECONDS 10 /* libmilter polls its listener every 5 s; twice that is a stall */

static pthread_t thread;
static int started;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;
static int stopping; /* under lock */

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

void pm_notify(const char *state)
{
    sd_notify(0, state);
}

void pm_notify_reloading(void)
{
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)(now_seconds() * 1e6));
}

/* One tick: STATUS with the message rate since the last tick, and the
 * watchdog ping if the listener is alive. */
static void tick(int watchdog, double *last_time, unsigned long long *last_messages)
{
    long long open;
    unsigned long long messages;
    pm_metrics_totals(&open, &messages);
    double now = now_seconds(), rate = (messages - *last_messages) / (now - *last_time);
    *last_time = now;
    *last_messages = messages;
    double stalled = pm_accept_stalled_seconds();
    if (stalled >= ACCEPT_STALL_SECONDS)
        sd_notifyf(0, "STATUS=accept loop stalled for %.0f s%s", stalled, watchdog ? "; watchdog pings stopped" : "");
    else
        sd_notifyf(0, "%sSTATUS=serving: %lld session(s) open, %.1f messages/s, %llu since start",
                   watchdog ? "WATCHDOG=1\n" : "", open, rate, messages);
}

static void *notify_loop(void *arg)
{
    uint64_t watchdog_usec = 0;
    int watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0;
    (void)arg;
    double interval = watchdog && watchdog_usec / 2e6 < STATUS_EVERY ? watchdog_usec / 2e6 : STATUS_EVERY;
    double last_time = now_seconds();
    unsigned long long last_messages = 0;
    long long open;
    pm_metrics_totals(&open, &last_messages);
    pthread_mutex_lock(&lock);
    while (!stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until); /* the condvar's clock (pm_notify_start) */
        long long ns = until.tv_nsec + (long long)(interval * 1e9);
        until.tv_sec += (time_t)(ns / 1000000000LL);
        until.tv_nsec = (long)(ns % 1000000000LL);
        if (pthread_cond_timedwait(&wake, &lock, &until) == ETIMEDOUT && !stopping) {
            pthread_mutex_unlock(&lock);
            tick(watchdog, &last_time, &last_messages);
            pthread_mutex_lock(&lock);
        }
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

void pm_notify_start(void)
{
    if (getenv("NOTIFY_SOCKET") == NULL || started)
        return;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* a wall-clock step must not stall the pings */
    pthread_cond_init(&wake, &attr);
    pthread_condattr_destroy(&attr);
    started = pthread_create(&thread, NULL, notify_loop, NULL) == 0;
}

void pm_notify_stop(void)
{
    if (!started)
        return;
    pthread_mutex_lock(&lock);
    stopping = 1;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    pthread_join(thread, NULL);
    started = 0;
}
