/* vm: one mruby VM with pmilter's Ruby API and every handler loaded from
 * precompiled bytecode. A VM is used by one thread at a time (vm_pool.c lends
 * it per callback). pm_vm_run is the only way into Ruby: it saves and restores
 * the GC arena, guards the thread's stack (stack_guard.h) and turns an
 * exception into a "file:line: message (Class)" string. */
#ifndef PM_VM_H
#define PM_VM_H
#include <mruby.h>
#include <stddef.h>

#include "milter/session.h"
#include "ruby/script.h"

typedef enum {
    PM_VM_SOUND,
    PM_VM_DAMAGED, /* ran out of memory or stack cleanly: close it, make another */
    PM_VM_WRECKED, /* overflowed the C stack mid-operation: never run or close it again */
} pm_vm_state_t;

typedef struct pm_vm {
    mrb_state *mrb;
    const pm_scripts_t *scripts;        /* handler paths, for messages */
    struct RProc *proc[PM_PHASE_COUNT]; /* NULL: no handler for the phase */
    struct pm_vm *next;                  /* vm_pool's free list */
    size_t bytes, limit;                 /* heap this VM holds, and its cap (handler_memory) */
    int stack_low;                       /* the allocator refused memory for lack of stack */
    pm_vm_state_t state;                 /* not SOUND: the pool retires it */
} pm_vm_t;

/* A VM whose heap may not exceed limit bytes (a handler that allocates
 * without bound gets NoMemoryError). Returns NULL with the reason in err. */
pm_vm_t *pm_vm_new(const pm_scripts_t *scripts, size_t limit, char *err, size_t errlen);
/* Closes vm, except a WRECKED one, which is left allocated: closing runs
 * code over state that the overflow left half-updated. */
pm_vm_t *pm_vm_free(pm_vm_t *vm);
/* Runs the handler of call->phase with call as context. Returns 0, or -1 with
 * the exception in err. After NoMemoryError or SystemStackError the VM is
 * DAMAGED or WRECKED and the pool replaces it. */
int pm_vm_run(pm_vm_t *vm, pm_call_t *call, char *err, size_t errlen);

#endif
