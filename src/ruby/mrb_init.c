/* mrb_init: registers every binding in a VM and holds the helpers they share.
 * Runs in the thread that creates or runs the VM. */
#include "ruby/mrb_init.h"

#include <mruby/array.h>
#include <mruby/class.h>
#include <mruby/error.h>
#include <mruby/proc.h>
#include <mruby/string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "milter/actions.h"
#include "regexp/mrb_regexp.h"

/* mruby 3.1 says "undefined method 'downcase'" without naming the receiver.
 * In a handler the receiver is most often a nil where a String was expected
 * (a missing header), so the message says "for nil", as CRuby's does. */
static mrb_value nil_method_missing(mrb_state *mrb, mrb_value self)
{
    mrb_sym name;
    const mrb_value *argv;
    mrb_int argc;
    mrb_get_args(mrb, "n*", &name, &argv, &argc);
    mrb_no_method_error(mrb, name, mrb_ary_new_from_values(mrb, argc, argv), "undefined method '%n' for nil", name);
    return mrb_nil_value(); /* not reached */
}

/* Class#new packs its arguments into an Array and a Hash on every call in
 * mruby 3.1: with Session.new and Headers.new in most handlers that was an
 * eighth of a handler run's instructions, plus the GC work (bench profile).
 * plain_new allocates the object alone when Class#new would do nothing more:
 * no arguments and the class's initialize still the default (BasicObject's,
 * which ignores a block; recorded when the first VM defines the API).
 * Anything else (a reopened class with its own initialize, arguments) goes to
 * Class#new. The symbol and the function are the library's, the same in
 * every VM; if a VM ever disagrees, no VM takes the short cut. */
static pthread_mutex_t plain_new_lock = PTHREAD_MUTEX_INITIALIZER;
static mrb_sym initialize_sym; /* set once, under plain_new_lock, before any VM runs a handler */
static mrb_func_t default_initialize;
static atomic_int plain_new_broken;

static int default_initialize_p(mrb_state *mrb, struct RClass *c)
{
    mrb_method_t m = mrb_method_search_vm(mrb, &c, initialize_sym);
    return !atomic_load_explicit(&plain_new_broken, memory_order_relaxed) && c != NULL && MRB_METHOD_CFUNC_P(m) &&
           MRB_METHOD_CFUNC(m) == default_initialize;
}

static mrb_value plain_new(mrb_state *mrb, mrb_value cls)
{
    struct RClass *c = mrb_class_ptr(cls);
    enum mrb_vtype tt = MRB_INSTANCE_TT(c); /* 0: a plain object, as for MRB_TT_OBJECT */
    if (mrb_get_argc(mrb) != 0 || (tt != 0 && tt != MRB_TT_OBJECT) || !default_initialize_p(mrb, c))
        return mrb_instance_new(mrb, cls);
    return mrb_obj_value(mrb_obj_alloc(mrb, MRB_TT_OBJECT, c));
}

void pm_mrb_define_plain_new(mrb_state *mrb, struct RClass *c)
{
    struct RClass *owner = c;
    mrb_sym sym = mrb_intern_lit(mrb, "initialize");
    mrb_method_t m = mrb_method_search_vm(mrb, &owner, sym);
    mrb_func_t func = MRB_METHOD_CFUNC_P(m) ? MRB_METHOD_CFUNC(m) : NULL;
    pthread_mutex_lock(&plain_new_lock);
    if (initialize_sym == 0) {
        initialize_sym = sym;
        default_initialize = func;
    }
    if (sym != initialize_sym || func != default_initialize || func == NULL)
        atomic_store(&plain_new_broken, 1);
    pthread_mutex_unlock(&plain_new_lock);
    mrb_define_class_method(mrb, c, "new", plain_new, MRB_ARGS_ANY());
}

void pm_mrb_init(mrb_state *mrb)
{
    int ai = mrb_gc_arena_save(mrb);
    mrb_define_method(mrb, mrb->nil_class, "method_missing", nil_method_missing, MRB_ARGS_ANY());
    pm_mrb_pmilter_init(mrb);
    mrb_gc_arena_restore(mrb, ai);
    pm_mrb_session_init(mrb);
    mrb_gc_arena_restore(mrb, ai);
    pm_mrb_session_actions_init(mrb);
    mrb_gc_arena_restore(mrb, ai);
    pm_mrb_store_init(mrb);
    mrb_gc_arena_restore(mrb, ai);
    pm_mrb_headers_init(mrb);
    mrb_gc_arena_restore(mrb, ai);
    pm_mrb_output_init(mrb);
    mrb_gc_arena_restore(mrb, ai);
    pm_mrb_regexp_init(mrb);
    mrb_gc_arena_restore(mrb, ai);
    pm_mrb_dns_init(mrb);
    pm_mrb_kv_init(mrb);
    pm_mrb_metrics_init(mrb);
    pm_mrb_mime_init(mrb);
    pm_mrb_spf_init(mrb);
    pm_mrb_auth_init(mrb);
    mrb_gc_arena_restore(mrb, ai);
}

double pm_mrb_ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t0->tv_sec) * 1e3 + (now.tv_nsec - t0->tv_nsec) / 1e6;
}

double pm_mrb_wait_left_ms(const pm_call_t *call)
{
    if (!call->started.tv_sec && !call->started.tv_nsec)
        return 600000;
    double left = call->cfg->handler_timeout * 1000.0 - pm_mrb_ms_since(&call->started) - 100;
    return left > 0 ? left : 0;
}

pm_call_t *pm_mrb_call(mrb_state *mrb)
{
    pm_call_t *call = mrb->ud;
    if (call == NULL)
        mrb_raise(mrb, E_RUNTIME_ERROR, "no milter callback is running");
    return call;
}

void pm_mrb_require_phase(mrb_state *mrb, pm_phase_t phase, const char *method)
{
    pm_call_t *call = pm_mrb_call(mrb);
    if (call->phase != phase) {
        struct RClass *pmilter = mrb_module_get(mrb, "Pmilter");
        struct RClass *phase_error = mrb_class_get_under(mrb, pmilter, "PhaseError");
        mrb_raisef(mrb, phase_error, "%s is only allowed in the %s phase (called in %s)", method,
                   pm_phase_name(phase), pm_phase_name(call->phase));
    }
}

void pm_mrb_raise_action(mrb_state *mrb, int rc, const char *method, const char *err)
{
    if (rc == PM_ACTION_INVALID)
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "%s: %s", method, err);
    if (rc == PM_ACTION_FAILED)
        mrb_raisef(mrb, E_RUNTIME_ERROR, "%s: %s", method, err);
}

mrb_value pm_mrb_str(mrb_state *mrb, const char *s)
{
    return s ? mrb_str_new_cstr(mrb, s) : mrb_str_new_lit(mrb, "");
}
