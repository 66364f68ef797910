/* vm: create a VM, load handler bytecode into it, and run one phase (see
 * vm.h). Any thread, one VM per thread at a time. */
#include "ruby/vm.h"

#include <mruby/array.h>
#include <mruby/dump.h>
#include <mruby/error.h>
#include <mruby/irep.h>
#include <mruby/proc.h>
#include <mruby/string.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "regexp/mrb_regexp.h"
#include "ruby/mrb_init.h"
#include "ruby/stack_guard.h"

#define MAX_FRAMES 5 /* file:line frames an error message shows */

typedef struct {
    mrb_value exc;
    char *err;
    size_t errlen;
} describe_t;

/* The length of a backtrace frame's "file:line", without ":in method". */
static size_t location_len(mrb_value frame)
{
    const char *in = memmem(RSTRING_PTR(frame), (size_t)RSTRING_LEN(frame), ":in ", 4);
    return in ? (size_t)(in - RSTRING_PTR(frame)) : (size_t)RSTRING_LEN(frame);
}

/* Picks up to MAX_FRAMES frames, innermost first. A frame on the same line
 * as its caller (a C method: eval, method_missing; a recursion) is left to
 * the caller. Returns how many; *more is set when frames were left out. */
static int pick_frames(mrb_value bt, mrb_value *frames, int *more)
{
    int n = 0;
    *more = 0;
    for (mrb_int i = 0; mrb_array_p(bt) && i < RARRAY_LEN(bt); i++) {
        mrb_value frame = RARRAY_PTR(bt)[i];
        if (!mrb_string_p(frame))
            continue;
        mrb_value caller = i + 1 < RARRAY_LEN(bt) ? RARRAY_PTR(bt)[i + 1] : mrb_nil_value();
        size_t len = location_len(frame);
        if (mrb_string_p(caller) && location_len(caller) == len && memcmp(RSTRING_PTR(caller), RSTRING_PTR(frame), len) == 0)
            continue;
        if (n == MAX_FRAMES) {
            *more = 1;
            break;
        }
        frames[n++] = frame;
    }
    return n;
}

/* Appends to err (errlen bytes, NUL-terminated), truncating. */
__attribute__((format(printf, 3, 4))) static void append(char *err, size_t errlen, const char *fmt, ...)
{
    size_t used = strlen(err);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + used, errlen - used, fmt, ap);
    va_end(ap);
}

/* "file:line: message (Class)", then "(from caller, caller, ...)" when the
 * error is inside a method, so an error in a library names the handler line
 * that led there. May raise: runs under mrb_protect_error. */
static mrb_value describe(mrb_state *mrb, void *arg)
{
    describe_t *d = arg;
    mrb_value frames[MAX_FRAMES];
    int more;
    int n = pick_frames(mrb_exc_backtrace(mrb, d->exc), frames, &more);
    mrb_value what = mrb_inspect(mrb, d->exc);
    d->err[0] = '\0';
    if (n > 0)
        append(d->err, d->errlen, "%.*s: ", (int)RSTRING_LEN(frames[0]), RSTRING_PTR(frames[0]));
    append(d->err, d->errlen, "%.*s", (int)RSTRING_LEN(what), RSTRING_PTR(what));
    for (int i = 1; i < n; i++)
        append(d->err, d->errlen, "%s%.*s", i == 1 ? " (from " : ", ", (int)RSTRING_LEN(frames[i]), RSTRING_PTR(frames[i]));
    if (n > 1)
        append(d->err, d->errlen, "%s)", more ? ", ..." : "");
    return mrb_nil_value();
}

/* Describes the pending exception into err and clears it, leaving the VM
 * ready for the next call. Outside mrb_top_run there is no handler for a
 * raise (mruby would abort), hence the protected call. */
static void take_exception(mrb_state *mrb, char *err, size_t errlen)
{
    int ai = mrb_gc_arena_save(mrb);
    describe_t d = {mrb_obj_value(mrb->exc), err, errlen};
    mrb->exc = NULL;          /* must be clear before any further VM call */
    mrb_gc_protect(mrb, d.exc); /* now unreachable: keep it alive while we describe it */
    snprintf(err, errlen, "%s", mrb_obj_classname(mrb, d.exc));
    mrb_bool failed = FALSE;
    mrb_protect_error(mrb, describe, &d, &failed);
    mrb->exc = NULL;
    mrb_gc_arena_restore(mrb, ai);
}

static struct RProc *load_proc(mrb_state *mrb, const pm_bytecode_t *bc, char *err, size_t errlen)
{
    mrb_irep *irep = mrb_read_irep_buf(mrb, bc->code, bc->len);
    if (irep == NULL) {
        snprintf(err, errlen, "%s: cannot load compiled code", bc->path);
        return NULL;
    }
    struct RProc *proc = mrb_proc_new(mrb, irep);
    mrb_irep_decref(mrb, irep);
    MRB_PROC_SET_TARGET_CLASS(proc, mrb->object_class);
    return proc;
}

/* Runs the mruby_library files: their methods, classes and constants then
 * exist for every handler of this VM. */
static int run_libraries(mrb_state *mrb, const pm_scripts_t *scripts, char *err, size_t errlen)
{
    for (size_t i = 0; i < scripts->n_library; i++) {
        int ai = mrb_gc_arena_save(mrb);
        struct RProc *proc = load_proc(mrb, scripts->library[i], err, errlen);
        if (proc == NULL)
            return -1;
        mrb_top_run(mrb, proc, mrb_top_self(mrb), 0);
        if (mrb->exc) {
            take_exception(mrb, err, errlen);
            return -1;
        }
        mrb_gc_arena_restore(mrb, ai);
    }
    return 0;
}

/* mruby's allocator for one VM: counts its heap and refuses past the limit,
 * which mruby turns into NoMemoryError for the handler. */
static void *vm_alloc(mrb_state *mrb, void *p, size_t size, void *ud)
{
    pm_vm_t *vm = ud;
    size_t old = p ? malloc_usable_size(p) : 0;
    if (size == 0) {
        vm->bytes -= old;
        free(p);
        return NULL;
    }
    if (vm->bytes - old + size > vm->limit)
        return NULL;
    if (size > old && pm_stack_guard_low()) {
        vm->stack_low = 1; /* mruby raises NoMemoryError and unwinds while there is stack left */
        return NULL;
    }
    void *q = realloc(p, size);
    if (q == NULL)
        return NULL;
    vm->bytes = vm->bytes - old + malloc_usable_size(q);
    return q;
}

/* Oniguruma's memory (src/regexp), counted like the mruby heap it sits beside. */
static int vm_charge(mrb_state *mrb, ptrdiff_t bytes)
{
    if (mrb->allocf != vm_alloc)
        return 0;
    pm_vm_t *vm = mrb->allocf_ud;
    if (bytes > 0 && vm->bytes + (size_t)bytes > vm->limit)
        return -1;
    vm->bytes += (size_t)bytes; /* wraps back down for bytes < 0 */
    return 0;
}

typedef struct {
    pm_vm_t *vm;
    const pm_scripts_t *scripts;
    char *err;
    size_t errlen;
    int rc;
} vm_setup_t;

/* Runs body(arg) with the thread's stack guarded. 0, or -1 when the C stack
 * overflowed: mruby stopped mid-operation (its jump buffers point into
 * frames that are gone, objects may be half-built), so the VM is WRECKED. */
static int run_guarded(pm_vm_t *vm, void (*body)(void *), void *arg)
{
    sigjmp_buf overflow;
    if (sigsetjmp(overflow, 0)) {
        pm_stack_guard_disarm();
        vm->state = PM_VM_WRECKED;
        return -1;
    }
    pm_stack_guard_arm(&overflow);
    body(arg);
    pm_stack_guard_disarm();
    return 0;
}

/* Defines the Ruby API, runs the libraries and loads the handlers. Runs under
 * mrb_protect_error: outside mrb_top_run a raise (NoMemoryError near the
 * VM's memory cap) would otherwise abort the process. */
static mrb_value setup(mrb_state *mrb, void *arg)
{
    vm_setup_t *s = arg;
    pm_mrb_init(mrb);
    pm_regexp_keep_last_match(mrb, s->scripts->reads_last_match);
    if (run_libraries(mrb, s->scripts, s->err, s->errlen) != 0)
        return mrb_nil_value();
    for (int i = 0; i < PM_PHASE_COUNT; i++) {
        if (s->scripts->phase[i] == NULL)
            continue;
        struct RProc *proc = load_proc(mrb, s->scripts->phase[i], s->err, s->errlen);
        if (proc == NULL)
            return mrb_nil_value();
        mrb_gc_register(mrb, mrb_obj_value(proc));
        s->vm->proc[i] = proc;
    }
    s->rc = 0;
    return mrb_nil_value();
}

typedef struct {
    vm_setup_t setup;
    mrb_bool failed;
} guarded_setup_t;

static void setup_protected(void *arg)
{
    guarded_setup_t *g = arg;
    mrb_protect_error(g->setup.vm->mrb, setup, &g->setup, &g->failed);
}

pm_vm_t *pm_vm_new(const pm_scripts_t *scripts, size_t limit, char *err, size_t errlen)
{
    pm_vm_t *vm = pm_calloc(1, sizeof *vm);
    vm->limit = limit;
    vm->scripts = scripts;
    pm_regexp_set_charge(vm_charge);
    mrb_state *mrb = mrb_open_allocf(vm_alloc, vm);
    if (mrb == NULL) {
        snprintf(err, errlen, "cannot create an mruby VM (out of memory, or handler_memory too small)");
        free(vm);
        return NULL;
    }
    vm->mrb = mrb;
    guarded_setup_t g = {{vm, scripts, err, errlen, -1}, FALSE};
    if (run_guarded(vm, setup_protected, &g) != 0) {
        snprintf(err, errlen, "cannot set up an mruby VM: stack level too deep (SystemStackError) in a library; "
                              "the VM is left allocated");
        return pm_vm_free(vm);
    }
    if (g.failed) {
        mrb->exc = NULL;
        snprintf(err, errlen, "cannot set up an mruby VM: %s (handler_memory is %zu MiB)",
                 vm->stack_low ? "stack level too deep (SystemStackError)" : "out of memory", limit >> 20);
    }
    if (g.failed || g.setup.rc != 0)
        return pm_vm_free(vm);
    return vm;
}

/* WRECKED VMs, never freed: kept reachable, so that the leak is deliberate
 * and leak checkers do not report it. Pushed lock-free from any thread. */
static _Atomic(pm_vm_t *) wrecked;

pm_vm_t *pm_vm_free(pm_vm_t *vm)
{
    if (vm == NULL)
        return NULL;
    if (vm->state == PM_VM_WRECKED) {
        vm->next = atomic_load(&wrecked);
        while (!atomic_compare_exchange_weak(&wrecked, &vm->next, vm))
            ;
        return NULL;
    }
    mrb_close(vm->mrb);
    free(vm);
    return NULL;
}

typedef struct {
    mrb_state *mrb;
    struct RProc *proc;
} top_run_t;

static void top_run(void *arg)
{
    top_run_t *r = arg;
    mrb_top_run(r->mrb, r->proc, mrb_top_self(r->mrb), 0);
}

int pm_vm_run(pm_vm_t *vm, pm_call_t *call, char *err, size_t errlen)
{
    mrb_state *mrb = vm->mrb;
    struct RProc *proc = vm->proc[call->phase];
    if (proc == NULL)
        return 0;
    const char *path = vm->scripts->phase[call->phase]->path;
    int ai = mrb_gc_arena_save(mrb);
    mrb->ud = call;
    vm->stack_low = 0;
    pm_regexp_reset_last_match(mrb); /* no run sees an earlier run's captures */
    top_run_t r = {mrb, proc};
    if (run_guarded(vm, top_run, &r) != 0) {
        snprintf(err, errlen, "%s: stack level too deep (SystemStackError)", path);
        snprintf(call->error_class, sizeof call->error_class, "SystemStackError");
        return -1; /* mrb is not touched again */
    }
    int rc = 0;
    if (mrb->exc) {
        /* Out of memory or stack, the VM's state is suspect: retire it. */
        const char *class = mrb_obj_classname(mrb, mrb_obj_value(mrb->exc));
        snprintf(call->error_class, sizeof call->error_class, "%s", class); /* for the metrics */
        int no_memory = strcmp(class, "NoMemoryError") == 0;
        if (no_memory || strcmp(class, "SystemStackError") == 0)
            vm->state = PM_VM_DAMAGED;
        if (no_memory && vm->stack_low) {
            mrb->exc = NULL; /* the memory was refused because the stack ran low */
            snprintf(err, errlen, "%s: stack level too deep (SystemStackError)", path);
        } else
            take_exception(mrb, err, errlen);
        rc = -1;
    }
    mrb->ud = NULL;
    mrb_gc_arena_restore(mrb, ai);
    return rc;
}
