/* vm: create a VM, load handler bytecode into it, and run one phase. */
#include "ruby/vm.h"

#include <mruby/array.h>
#include <mruby/dump.h>
#include <mruby/error.h>
#include <mruby/irep.h>
#include <mruby/proc.h>
#include <mruby/string.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "regexp/mrb_regexp.h"
#include "ruby/mrb_init.h"

typedef struct {
    mrb_value exc;
    char *err;
    size_t errlen;
} describe_t;

/* "file:line: message (Class)"; may raise, so it runs under mrb_protect_error. */
static mrb_value describe(mrb_state *mrb, void *arg)
{
    describe_t *d = arg;
    mrb_value bt = mrb_exc_backtrace(mrb, d->exc);
    mrb_value where = mrb_array_p(bt) && RARRAY_LEN(bt) > 0 ? mrb_ary_ref(mrb, bt, 0) : mrb_nil_value();
    mrb_value what = mrb_inspect(mrb, d->exc);
    if (mrb_string_p(where))
        snprintf(d->err, d->errlen, "%.*s: %.*s", (int)RSTRING_LEN(where), RSTRING_PTR(where), (int)RSTRING_LEN(what),
                 RSTRING_PTR(what));
    else
        snprintf(d->err, d->errlen, "%.*s", (int)RSTRING_LEN(what), RSTRING_PTR(what));
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

/* Defines the Ruby API, runs the libraries and loads the handlers. Runs under
 * mrb_protect_error: outside mrb_top_run a raise (NoMemoryError near the
 * VM's memory cap) would otherwise abort the process. */
static mrb_value setup(mrb_state *mrb, void *arg)
{
    vm_setup_t *s = arg;
    pm_mrb_init(mrb);
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

pm_vm_t *pm_vm_new(const pm_scripts_t *scripts, size_t limit, char *err, size_t errlen)
{
    pm_vm_t *vm = pm_calloc(1, sizeof *vm);
    vm->limit = limit;
    pm_regexp_set_charge(vm_charge);
    mrb_state *mrb = mrb_open_allocf(vm_alloc, vm);
    if (mrb == NULL) {
        snprintf(err, errlen, "cannot create an mruby VM (out of memory, or handler_memory too small)");
        free(vm);
        return NULL;
    }
    vm->mrb = mrb;
    vm_setup_t s = {vm, scripts, err, errlen, -1};
    mrb_bool failed = FALSE;
    mrb_protect_error(mrb, setup, &s, &failed);
    if (failed) {
        mrb->exc = NULL;
        snprintf(err, errlen, "cannot set up an mruby VM: out of memory (handler_memory is %zu MiB)", limit >> 20);
    }
    if (failed || s.rc != 0)
        return pm_vm_free(vm);
    return vm;
}

pm_vm_t *pm_vm_free(pm_vm_t *vm)
{
    if (vm) {
        mrb_close(vm->mrb);
        free(vm);
    }
    return NULL;
}

int pm_vm_run(pm_vm_t *vm, pm_call_t *call, char *err, size_t errlen)
{
    mrb_state *mrb = vm->mrb;
    struct RProc *proc = vm->proc[call->phase];
    if (proc == NULL)
        return 0;
    int ai = mrb_gc_arena_save(mrb);
    mrb->ud = call;
    pm_regexp_reset_last_match(mrb); /* no run sees an earlier run's captures */
    mrb_top_run(mrb, proc, mrb_top_self(mrb), 0);
    int rc = 0;
    if (mrb->exc) {
        /* Out of memory or stack, the VM's state is suspect: retire it. */
        const char *class = mrb_obj_classname(mrb, mrb_obj_value(mrb->exc));
        vm->damaged = strcmp(class, "NoMemoryError") == 0 || strcmp(class, "SystemStackError") == 0;
        take_exception(mrb, err, errlen);
        rc = -1;
    }
    mrb->ud = NULL;
    mrb_gc_arena_restore(mrb, ai);
    return rc;
}
