/* watchdog: one thread that checks running handlers against handler_timeout (see watchdog.h). */
#include "ruby/watchdog.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "metrics/metrics.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pm_watch_t *running; /* calls in progress, under lock */
static int timeout;
static atomic_int stop, stuck, stuck_in_messages;
static pthread_t thread;
static int started;

static double seconds_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static void *watch_loop(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        usleep(100000);
        pthread_mutex_lock(&lock);
        for (pm_watch_t *w = running; w; w = w->next) {
            if (w->fired || seconds_since(&w->start) < timeout)
                continue;
            w->fired = 1;
            atomic_fetch_add(&stuck, 1);
            pm_metrics_watchdog_kill();
            if (w->holds_message)
                atomic_fetch_add(&stuck_in_messages, 1);
            pm_error("%s has run for more than %d s (phase %s, session %lu): closing this MTA connection so the MTA "
                     "applies its milter_default_action; the VM is replaced; %d handler(s) stuck (restart pmilter to "
                     "reclaim their CPU)",
                     w->script, timeout, pm_phase_name(w->phase), w->session, atomic_load(&stuck));
            if (w->fd >= 0)
                shutdown(w->fd, SHUT_RDWR);
            pm_vm_pool_abandon(w->pool);
        }
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

void pm_watchdog_start(int timeout_seconds)
{
    timeout = timeout_seconds;
    started = pthread_create(&thread, NULL, watch_loop, NULL) == 0;
    if (!started)
        pm_error("cannot start the handler watchdog: handler_timeout is not enforced");
}

void pm_watchdog_stop(void)
{
    atomic_store(&stop, 1);
    if (started)
        pthread_join(thread, NULL);
    started = 0;
}

void pm_watch_begin(pm_watch_t *w, int fd, unsigned long session, pm_phase_t phase, const char *script,
                    pm_vm_pool_t *pool)
{
    clock_gettime(CLOCK_MONOTONIC, &w->start);
    w->fd = fd;
    w->session = session;
    w->phase = phase;
    w->script = script;
    w->pool = pool;
    w->fired = 0;
    w->prev = NULL;
    pthread_mutex_lock(&lock);
    w->next = running;
    if (running)
        running->prev = w;
    running = w;
    pthread_mutex_unlock(&lock);
}

int pm_watch_end(pm_watch_t *w)
{
    pthread_mutex_lock(&lock);
    if (w->prev)
        w->prev->next = w->next;
    else
        running = w->next;
    if (w->next)
        w->next->prev = w->prev;
    int fired = w->fired;
    pthread_mutex_unlock(&lock);
    if (fired) { /* it came back after all */
        atomic_fetch_sub(&stuck, 1);
        if (w->holds_message)
            atomic_fetch_sub(&stuck_in_messages, 1);
    }
    return fired;
}

int pm_watchdog_stuck(void)
{
    return atomic_load(&stuck);
}

int pm_watchdog_stuck_in_messages(void)
{
    return atomic_load(&stuck_in_messages);
}
