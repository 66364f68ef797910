/* vm: create a VM, load handler bytecode into it, and run one phase. */
#include "vm.h"

#include <mruby/array.h>
#include <mruby/dump.h>
#include <mruby/error.h>
#include <mruby/irep.h>
#include <mruby/proc.h>
#include <mruby/string.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc.h"
#include "mrb_init.h"

/* Writes "file:line: message (Class)" for the pending exception and clears it. */
static void take_exception(mrb_state *mrb, char *err, size_t errlen)
{
    mrb_value exc = mrb_obj_value(mrb->exc);
    mrb->exc = NULL; /* must be clear before any further VM call */
    int ai = mrb_gc_arena_save(mrb);
    mrb_value bt = mrb_exc_backtrace(mrb, exc);
    mrb_value where = mrb_array_p(bt) && RARRAY_LEN(bt) > 0 ? mrb_ary_ref(mrb, bt, 0) : mrb_nil_value();
    mrb_value what = mrb_inspect(mrb, exc);
    if (mrb->exc) { /* inspect itself raised: fall back to the class name */
        mrb->exc = NULL;
        what = mrb_str_new_cstr(mrb, mrb_obj_classname(mrb, exc));
    }
    if (mrb_string_p(where))
        snprintf(err, errlen, "%.*s: %.*s", (int)RSTRING_LEN(where), RSTRING_PTR(where), (int)RSTRING_LEN(what),
                 RSTRING_PTR(what));
    else
        snprintf(err, errlen, "%.*s", (int)RSTRING_LEN(what), RSTRING_PTR(what));
    mrb_gc_arena_restore(mrb, ai);
}

pm_vm_t *pm_vm_new(const pm_scripts_t *scripts, char *err, size_t errlen)
{
    mrb_state *mrb = mrb_open();
    if (mrb == NULL) {
        snprintf(err, errlen, "cannot create an mruby VM (out of memory)");
        return NULL;
    }
    pm_mrb_init(mrb);
    pm_vm_t *vm = pm_calloc(1, sizeof *vm);
    vm->mrb = mrb;
    for (int i = 0; i < PM_PHASE_COUNT; i++) {
        const pm_bytecode_t *bc = scripts->phase[i];
        if (bc == NULL)
            continue;
        mrb_irep *irep = mrb_read_irep_buf(mrb, bc->code, bc->len);
        if (irep == NULL) {
            snprintf(err, errlen, "%s: cannot load compiled handler", bc->path);
            return pm_vm_free(vm);
        }
        struct RProc *proc = mrb_proc_new(mrb, irep);
        mrb_irep_decref(mrb, irep);
        MRB_PROC_SET_TARGET_CLASS(proc, mrb->object_class);
        mrb_gc_register(mrb, mrb_obj_value(proc));
        vm->proc[i] = proc;
    }
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
    mrb_top_run(mrb, proc, mrb_top_self(mrb), 0);
    int rc = 0;
    if (mrb->exc) {
        take_exception(mrb, err, errlen);
        rc = -1;
    }
    mrb->ud = NULL;
    mrb_gc_arena_restore(mrb, ai);
    return rc;
}
