/* vm_pool: the pool's VMs (see vm_pool.h). A VM given back goes into the
 * giving thread's shelf, an atomic slot the same thread borrows from next
 * (warm in its cache, no lock, no shared cache line); a VM a shelf cannot take
 * goes onto a LIFO free list under the mutex. A borrower whose shelf is empty
 * takes the list, then any shelf, before growing the pool or waiting.
 * No lost wake-up: a waiter counts itself in waiters before it looks at the
 * shelves, and a giver looks at waiters after it shelved its VM (both seq_cst),
 * so one of the two sees the other; the giver then moves the shelves to the
 * list and signals, under the mutex.
 * Threads: any; each caller's shelf is chosen by a per-thread number. */
#include "ruby/vm_pool.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/log.h"
#include "metrics/metrics.h"

#define SHELVES 16 /* more threads than this share shelves (a full one sends the VM to the list) */

typedef struct {
    _Atomic(pm_vm_t *) vm;
    char pad[64 - sizeof(void *)]; /* one cache line each: threads do not bounce each other's */
} shelf_t;

struct pm_vm_pool {
    shelf_t shelf[SHELVES];
    atomic_int waiters; /* callers waiting for a VM (under lock while they wait) */
    pthread_mutex_t lock;
    pthread_cond_t returned;
    const pm_scripts_t *scripts;
    pm_vm_t *idle; /* free list */
    int size;      /* VMs created, busy or idle */
    int max;
    size_t vm_limit; /* heap cap of each VM, bytes */
};

pm_vm_pool_t *pm_vm_pool_new(const pm_scripts_t *scripts, int min, int max, size_t vm_limit, char *err,
                             size_t errlen)
{
    pm_vm_pool_t *pool = pm_calloc(1, sizeof *pool);
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->returned, NULL);
    pool->scripts = scripts;
    pool->max = max;
    pool->vm_limit = vm_limit;
    for (int i = 0; i < min; i++) {
        pm_vm_t *vm = pm_vm_new(scripts, vm_limit, err, errlen);
        if (vm == NULL)
            return pm_vm_pool_free(pool);
        vm->next = pool->idle;
        pool->idle = vm;
        pool->size++;
        pm_metrics_vm_created(1);
    }
    return pool;
}

pm_vm_pool_t *pm_vm_pool_free(pm_vm_pool_t *pool)
{
    if (pool == NULL)
        return NULL;
    for (int i = 0; i < SHELVES; i++) { /* nobody borrows any more: plain moves */
        pm_vm_t *vm = atomic_load(&pool->shelf[i].vm);
        if (vm) {
            vm->next = pool->idle;
            pool->idle = vm;
        }
    }
    while (pool->idle) {
        pm_vm_t *next = pool->idle->next;
        pm_vm_free(pool->idle);
        pool->idle = next;
    }
    pm_metrics_vm_created(-pool->size);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->returned);
    free(pool);
    return NULL;
}

/* The calling thread's shelf number (the same in every pool). */
static unsigned my_shelf(void)
{
    static atomic_uint threads;
    static _Thread_local unsigned number; /* 0: not drawn yet */
    if (number == 0)
        number = atomic_fetch_add_explicit(&threads, 1, memory_order_relaxed) + 1;
    return number % SHELVES;
}

/* A VM from any shelf, the caller's first, or NULL. Starting at one's own
 * shelf spreads the threads that look around over different shelves. */
static pm_vm_t *take_any_shelf(pm_vm_pool_t *pool)
{
    for (unsigned k = 0, first = my_shelf(); k < SHELVES; k++) {
        shelf_t *shelf = &pool->shelf[(first + k) % SHELVES];
        if (atomic_load(&shelf->vm)) { /* seq_cst: see the top comment */
            pm_vm_t *vm = atomic_exchange(&shelf->vm, NULL);
            if (vm)
                return vm;
        }
    }
    return NULL;
}

pm_vm_t *pm_vm_pool_borrow(pm_vm_pool_t *pool, char *err, size_t errlen)
{
    pm_vm_t *vm = take_any_shelf(pool); /* usually the VM this thread gave back last */
    if (vm)
        return vm;
    int waited = 0;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        vm = pool->idle;
        if (vm) {
            pool->idle = vm->next;
            pthread_mutex_unlock(&pool->lock);
            vm->next = NULL;
            return vm;
        }
        if ((vm = take_any_shelf(pool)) != NULL) {
            pthread_mutex_unlock(&pool->lock);
            return vm;
        }
        if (pool->size < pool->max) {
            int size = ++pool->size; /* read under the lock, logged after it */
            pthread_mutex_unlock(&pool->lock);
            /* Created outside the lock: other callers keep borrowing meanwhile. */
            vm = pm_vm_new(pool->scripts, pool->vm_limit, err, errlen);
            if (vm) {
                pm_debug("vm pool grew to %d VMs", size);
                pm_metrics_vm_created(1);
                return vm;
            }
            pthread_mutex_lock(&pool->lock);
            pool->size--;
            if (pool->size == 0) { /* no VM will come back to wait for: fail this callback */
                pthread_cond_signal(&pool->returned);
                pthread_mutex_unlock(&pool->lock);
                return NULL;
            }
            pm_error("cannot add a VM to the pool (waiting for a busy one): %s", err);
        }
        atomic_fetch_add(&pool->waiters, 1);
        if ((vm = take_any_shelf(pool)) != NULL) { /* shelved before the giver could see us */
            atomic_fetch_sub(&pool->waiters, 1);
            pthread_mutex_unlock(&pool->lock);
            return vm;
        }
        if (!waited++)
            pm_metrics_vm_wait();
        pthread_cond_wait(&pool->returned, &pool->lock);
        atomic_fetch_sub(&pool->waiters, 1);
    }
}

void pm_vm_pool_give_back(pm_vm_pool_t *pool, pm_vm_t *vm)
{
    if (vm->state == PM_VM_WRECKED)
        pm_warn("replacing a VM whose handler overflowed the C stack; its %zu KiB stay allocated, since closing it "
                "could crash",
                vm->bytes >> 10);
    else if (vm->state == PM_VM_DAMAGED)
        pm_warn("replacing a VM whose handler ran out of memory or stack");
    if (vm->state != PM_VM_SOUND) {
        pm_vm_free(vm);
        pm_vm_pool_abandon(pool);
        return;
    }
    pm_vm_t *empty = NULL;
    if (atomic_compare_exchange_strong(&pool->shelf[my_shelf()].vm, &empty, vm)) {
        if (atomic_load(&pool->waiters) == 0)
            return;
        vm = take_any_shelf(pool); /* someone waits: hand the shelves over (another may have been quicker) */
        if (vm == NULL)
            return;
    }
    pthread_mutex_lock(&pool->lock);
    vm->next = pool->idle;
    pool->idle = vm;
    if (atomic_load(&pool->waiters))
        pthread_cond_signal(&pool->returned);
    pthread_mutex_unlock(&pool->lock);
}

void pm_vm_pool_abandon(pm_vm_pool_t *pool)
{
    pthread_mutex_lock(&pool->lock);
    assert(pool->size > 0); /* only a VM the pool made can be abandoned */
    pool->size--; /* room for a new VM on the next borrow */
    pm_metrics_vm_created(-1);
    pm_metrics_vm_replaced();
    pthread_cond_signal(&pool->returned);
    pthread_mutex_unlock(&pool->lock);
}

int pm_vm_pool_size(pm_vm_pool_t *pool)
{
    pthread_mutex_lock(&pool->lock);
    int n = pool->size;
    pthread_mutex_unlock(&pool->lock);
    return n;
}
