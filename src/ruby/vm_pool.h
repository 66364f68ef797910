/* vm_pool: the set of ready VMs. A callback borrows one VM for as long as its
 * handler runs and gives it back; a few VMs serve any number of connections.
 * Starts with min_worker VMs, grows up to max_worker when all are busy, then
 * callers wait. A VM given back waits on the giving thread's shelf, so that
 * thread's next borrow takes it without a lock (vm_pool.c). Thread-safe. */
#ifndef PM_VM_POOL_H
#define PM_VM_POOL_H
#include <stddef.h>

#include "ruby/script.h"
#include "ruby/vm.h"

typedef struct pm_vm_pool pm_vm_pool_t;

/* Creates min VMs up front. NULL with the reason in err. The pool keeps a
 * pointer to scripts, which must outlive it. */
pm_vm_pool_t *pm_vm_pool_new(const pm_scripts_t *scripts, int min, int max, size_t vm_limit, char *err,
                             size_t errlen);
pm_vm_pool_t *pm_vm_pool_free(pm_vm_pool_t *pool);
/* Waits while max VMs are busy, or while some are busy and a new one cannot
 * be made. NULL with the reason in err when no VM exists and none can be
 * made (a library raised, no memory): the caller fails that one callback;
 * a later borrow tries again. */
pm_vm_t *pm_vm_pool_borrow(pm_vm_pool_t *pool, char *err, size_t errlen);
/* A DAMAGED VM is closed instead, a WRECKED one left allocated (logged), and
 * a fresh one made when needed. */
void pm_vm_pool_give_back(pm_vm_pool_t *pool, pm_vm_t *vm);
/* Forgets a VM that will never come back (stuck in a handler), so that
 * another can be made in its place. */
void pm_vm_pool_abandon(pm_vm_pool_t *pool);
/* How many VMs exist (busy or idle). */
int pm_vm_pool_size(pm_vm_pool_t *pool);

#endif
