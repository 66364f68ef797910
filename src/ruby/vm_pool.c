/* vm_pool: a LIFO free list of VMs under one mutex (see vm_pool.h). LIFO keeps
 * the most recently used VM, whose memory is warm in cache, in service. */
#include "ruby/vm_pool.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/log.h"
#include "metrics/metrics.h"

struct pm_vm_pool {
    pthread_mutex_t lock;
    pthread_cond_t returned;
    const pm_scripts_t *scripts;
    pm_vm_t *idle; /* free list */
    int size;      /* VMs created, busy or idle */
    int waiters;   /* callers in cond_wait: give_back signals only if any */
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

pm_vm_t *pm_vm_pool_borrow(pm_vm_pool_t *pool, char *err, size_t errlen)
{
    int waited = 0;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        pm_vm_t *vm = pool->idle;
        if (vm) {
            pool->idle = vm->next;
            pthread_mutex_unlock(&pool->lock);
            vm->next = NULL;
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
        if (!waited++)
            pm_metrics_vm_wait();
        pool->waiters++;
        pthread_cond_wait(&pool->returned, &pool->lock);
        pool->waiters--;
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
    pthread_mutex_lock(&pool->lock);
    vm->next = pool->idle;
    pool->idle = vm;
    if (pool->waiters)
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
