/* watchdog: one thread that checks running handlers against handler_timeout
 * (see watchdog.h). Each libmilter worker owns a watch slot, found through a
 * thread-local pointer; a run is begun with plain stores and ended with one
 * compare-and-swap on the slot's state, so handler runs take no lock. The
 * watchdog thread walks the list of slots (slots are never freed: a thread
 * that ends gives its slot up for the next new thread).
 * Threads: pm_watch_begin/end on the worker running the handler; the loop on
 * the watchdog thread; start/stop on the main thread. */
#include "ruby/watchdog.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "metrics/metrics.h"

/* The low bits of a slot's state; the bits above count the slot's runs, so
 * the watchdog's compare-and-swap fails if the run it looked at has ended. */
enum { IDLE, RUNNING, FIRING, FIRED, STATE_BITS = 3 };
#define RUN_STEP 4ull

#define RELAXED memory_order_relaxed
struct pm_watch {
    pm_watch_t *next;          /* every slot made; never unlinked */
    atomic_int owned;          /* a live thread uses this slot */
    atomic_ullong state;       /* run number * RUN_STEP + IDLE/RUNNING/FIRING/FIRED */
    /* The run's facts: written by the owner before it stores RUNNING, read by the watchdog. */
    atomic_llong start_ns;     /* CLOCK_MONOTONIC */
    atomic_int fd;             /* the MTA connection, -1 if unknown */
    atomic_ulong session;      /* for the log */
    atomic_int phase;
    _Atomic(const char *) script;  /* handler file, for the log */
    _Atomic(pm_vm_pool_t *) pool;  /* told to forget the stuck VM */
    atomic_int holds_message;      /* the session is inside a message */
};

static _Atomic(pm_watch_t *) slots; /* newest first */
static _Thread_local pm_watch_t *mine;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t slot_key; /* gives the slot up when its thread ends */
static int timeout;
static atomic_int stop, stuck, stuck_in_messages;
static pthread_t thread;
static int started;

static long long now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1000000000LL + now.tv_nsec;
}

/* Acts on a run past its time; the slot is FIRING, so its owner waits in
 * pm_watch_end (its generation, pool and script stay alive meanwhile). */
static void fire(pm_watch_t *w)
{
    atomic_fetch_add(&stuck, 1);
    pm_metrics_watchdog_kill();
    if (atomic_load_explicit(&w->holds_message, RELAXED))
        atomic_fetch_add(&stuck_in_messages, 1);
    pm_error("%s has run for more than %d s (phase %s, session %lu): closing this MTA connection so the MTA "
             "applies its milter_default_action; the VM is replaced; %d handler(s) stuck (restart pmilter to "
             "reclaim their CPU)",
             atomic_load_explicit(&w->script, RELAXED), timeout,
             pm_phase_name((pm_phase_t)atomic_load_explicit(&w->phase, RELAXED)),
             atomic_load_explicit(&w->session, RELAXED), atomic_load(&stuck));
    int fd = atomic_load_explicit(&w->fd, RELAXED);
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
    pm_vm_pool_abandon(atomic_load_explicit(&w->pool, RELAXED));
}

static void check(pm_watch_t *w, long long now)
{
    unsigned long long st = atomic_load(&w->state);
    if ((st & STATE_BITS) != RUNNING || now - atomic_load_explicit(&w->start_ns, RELAXED) < timeout * 1000000000LL)
        return;
    /* Fails if the run ended (or another began) since the load: then it was not stuck. */
    if (!atomic_compare_exchange_strong(&w->state, &st, (st & ~(unsigned long long)STATE_BITS) | FIRING))
        return;
    fire(w);
    atomic_store(&w->state, (st & ~(unsigned long long)STATE_BITS) | FIRED);
}

static void *watch_loop(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        usleep(100000);
        long long now = now_ns();
        for (pm_watch_t *w = atomic_load(&slots); w; w = w->next)
            check(w, now);
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

static void give_up_slot(void *slot)
{
    atomic_store(&((pm_watch_t *)slot)->owned, 0);
}

static void make_key(void)
{
    pthread_key_create(&slot_key, give_up_slot);
}

/* The calling thread's slot: one given up by an ended thread, else a new one. */
static pm_watch_t *own_slot(void)
{
    pthread_once(&key_once, make_key);
    pm_watch_t *w;
    for (w = atomic_load(&slots); w; w = w->next) {
        int free_slot = 0;
        if (atomic_compare_exchange_strong(&w->owned, &free_slot, 1))
            break;
    }
    if (w == NULL) {
        w = pm_calloc(1, sizeof *w);
        atomic_init(&w->owned, 1);
        w->next = atomic_load(&slots);
        while (!atomic_compare_exchange_weak(&slots, &w->next, w))
            ;
    }
    pthread_setspecific(slot_key, w);
    return mine = w;
}

pm_watch_t *pm_watch_begin(const struct timespec *start, int fd, unsigned long session, pm_phase_t phase,
                           const char *script, pm_vm_pool_t *pool, int holds_message)
{
    pm_watch_t *w = mine ? mine : own_slot();
    atomic_store_explicit(&w->start_ns, start->tv_sec * 1000000000LL + start->tv_nsec, RELAXED);
    atomic_store_explicit(&w->fd, fd, RELAXED);
    atomic_store_explicit(&w->session, session, RELAXED);
    atomic_store_explicit(&w->phase, (int)phase, RELAXED);
    atomic_store_explicit(&w->script, script, RELAXED);
    atomic_store_explicit(&w->pool, pool, RELAXED);
    atomic_store_explicit(&w->holds_message, holds_message, RELAXED);
    unsigned long long run = (atomic_load_explicit(&w->state, RELAXED) | STATE_BITS) + 1; /* the next run number */
    atomic_store_explicit(&w->state, run | RUNNING, memory_order_release); /* the facts above are visible first */
    return w;
}

int pm_watch_end(pm_watch_t *w)
{
    unsigned long long run = atomic_load_explicit(&w->state, RELAXED) & ~(unsigned long long)STATE_BITS;
    unsigned long long running = run | RUNNING;
    if (atomic_compare_exchange_strong(&w->state, &running, run | IDLE))
        return 0;
    /* The watchdog fired on this run: wait until it is done with the slot. */
    while ((atomic_load(&w->state) & STATE_BITS) == FIRING)
        sched_yield();
    atomic_store(&w->state, run | IDLE);
    atomic_fetch_sub(&stuck, 1); /* it came back after all */
    if (atomic_load_explicit(&w->holds_message, RELAXED))
        atomic_fetch_sub(&stuck_in_messages, 1);
    return 1;
}

int pm_watchdog_stuck(void)
{
    return atomic_load(&stuck);
}

int pm_watchdog_stuck_in_messages(void)
{
    return atomic_load(&stuck_in_messages);
}
