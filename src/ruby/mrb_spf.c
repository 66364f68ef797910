/* mrb_spf: Session#spf and #spf_helo, the handler's view of src/auth/spf.c.
 * The first call of a message runs the check (DNS through src/dns, bounded by
 * [dns] timeout_ms per batch of questions and by what is left of
 * handler_timeout in all) and keeps the C result in the session; later calls
 * of the same message, from any phase and VM, read that copy. The session
 * frees it at the end of the message (eom, abort, next MAIL FROM).
 * Each call returns a fresh Pmilter::SPF::Result holding copies (Strings), so
 * an object kept past its message reads no freed memory.
 * Threads: the libmilter worker serving the session, on the VM it holds. */
#include <mruby.h>
#include <mruby/class.h>
#include <mruby/string.h>
#include <mruby/variable.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/spf.h"
#include "core/alloc.h"
#include "core/log.h"
#include "ruby/mrb_init.h"


/* The check's deadline: what handler_timeout leaves the running callback. */
static void set_deadline(const pm_call_t *call, pm_spf_dns_t *dns)
{
    double left = pm_mrb_wait_left_ms(call);
    clock_gettime(CLOCK_MONOTONIC, &dns->deadline);
    long ms = (long)left;
    dns->deadline.tv_sec += ms / 1000;
    dns->deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (dns->deadline.tv_nsec >= 1000000000L) {
        dns->deadline.tv_sec++;
        dns->deadline.tv_nsec -= 1000000000L;
    }
    dns->batch_ms = call->cfg->dns_timeout_ms;
}

/* MAIL FROM's address: "<a@b>" -> "a@b", "<@relay:a@b>" -> "a@b", "<>" -> "". */
static char *reverse_path(const char *envfrom)
{
    const char *s = envfrom ? envfrom : "";
    while (*s == ' ')
        s++;
    if (*s == '<')
        s++;
    if (*s == '@' && strchr(s, ':')) /* a source route */
        s = strchr(s, ':') + 1;
    size_t n = strcspn(s, ">");
    while (n > 0 && s[n - 1] == ' ')
        n--;
    return pm_strndup(s, n);
}

static pm_spf_result_t *run_check(pm_call_t *call, const char *sender)
{
    pm_session_t *s = call->session;
    pm_spf_result_t *res = pm_calloc(1, sizeof *res);
    pm_spf_dns_t dns;
    set_deadline(call, &dns);
    const char *receiver = call->ctx ? smfi_getsymval(call->ctx, "j") : NULL;
    pm_spf_request_t req = {.ip = s->client_addr, .sender = sender, .helo = s->helo ? s->helo : "",
                            .receiver = receiver, .resolve = pm_spf_dns_resolve, .resolve_ctx = &dns};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pm_spf_check(&req, res);
    double ms = pm_mrb_ms_since(&t0);
    s->dns_ms += ms;
    pm_info("session %lu: spf: %s for %s from %s (%s%s%s) in %.0f ms, %d queries", s->id, pm_spf_code_name(res->code),
            res->domain, s->client_addr ? s->client_addr : "a unix socket", res->mechanism ? res->mechanism : "no mechanism matched",
            res->problem ? ": " : "", res->problem ? res->problem : "", ms, res->queries);
    return res;
}

static mrb_value str_or_nil(mrb_state *mrb, const char *s)
{
    return s ? mrb_str_new_cstr(mrb, s) : mrb_nil_value();
}

static mrb_value result_object(mrb_state *mrb, const pm_spf_result_t *r)
{
    struct RClass *spf = mrb_module_get_under(mrb, mrb_module_get(mrb, "Pmilter"), "SPF");
    mrb_value obj = mrb_obj_new(mrb, mrb_class_get_under(mrb, spf, "Result"), 0, NULL);
    mrb_iv_set(mrb, obj, mrb_intern_lit(mrb, "@result"), mrb_str_new_cstr(mrb, pm_spf_code_name(r->code)));
    mrb_iv_set(mrb, obj, mrb_intern_lit(mrb, "@domain"), pm_mrb_str(mrb, r->domain));
    mrb_iv_set(mrb, obj, mrb_intern_lit(mrb, "@mechanism"), str_or_nil(mrb, r->mechanism));
    mrb_iv_set(mrb, obj, mrb_intern_lit(mrb, "@explanation"), str_or_nil(mrb, r->explanation));
    mrb_iv_set(mrb, obj, mrb_intern_lit(mrb, "@problem"), str_or_nil(mrb, r->problem));
    return obj;
}

static void raise_phase(mrb_state *mrb, const pm_call_t *call, const char *method, const char *needs)
{
    struct RClass *phase_error = mrb_class_get_under(mrb, mrb_module_get(mrb, "Pmilter"), "PhaseError");
    mrb_raisef(mrb, phase_error, "Pmilter::Session#%s needs %s (called in %s)", method, needs,
               pm_phase_name(call->phase));
}

static int in_message_phase(pm_phase_t p, pm_phase_t first)
{
    return p >= first && p <= PM_PHASE_ABORT;
}

/* Session#spf: the MAIL FROM identity (postmaster@HELO for an empty reverse-path). */
static mrb_value session_spf(mrb_state *mrb, mrb_value self)
{
    pm_call_t *call = pm_mrb_call(mrb);
    pm_session_t *s = call->session;
    if (s == NULL || !in_message_phase(call->phase, PM_PHASE_ENVFROM) || s->envfrom == NULL)
        raise_phase(mrb, call, "spf", "MAIL FROM");
    if (s->spf == NULL) {
        char *sender = reverse_path(s->envfrom);
        s->spf = run_check(call, sender);
        free(sender);
    }
    return result_object(mrb, s->spf);
}

/* Session#spf_helo: the HELO identity, postmaster@HELO. */
static mrb_value session_spf_helo(mrb_state *mrb, mrb_value self)
{
    pm_call_t *call = pm_mrb_call(mrb);
    pm_session_t *s = call->session;
    if (s == NULL || !in_message_phase(call->phase, PM_PHASE_HELO) || s->helo == NULL)
        raise_phase(mrb, call, "spf_helo", "HELO");
    if (s->spf_helo == NULL)
        s->spf_helo = run_check(call, "");
    return result_object(mrb, s->spf_helo);
}

#define READER(name)                                                                                                   \
    static mrb_value result_##name(mrb_state *mrb, mrb_value self)                                                    \
    {                                                                                                                  \
        return mrb_iv_get(mrb, self, mrb_intern_lit(mrb, "@" #name));                                                  \
    }
READER(result)
READER(domain)
READER(mechanism)
READER(explanation)
READER(problem)

static mrb_value result_inspect(mrb_state *mrb, mrb_value self)
{
    mrb_value r = result_result(mrb, self), d = result_domain(mrb, self), m = result_mechanism(mrb, self);
    return mrb_format(mrb, "#<Pmilter::SPF::Result %v %v %v>", r, d, mrb_nil_p(m) ? mrb_str_new_lit(mrb, "-") : m);
}

void pm_mrb_spf_init(mrb_state *mrb)
{
    struct RClass *pmilter = mrb_module_get(mrb, "Pmilter");
    struct RClass *spf = mrb_define_module_under(mrb, pmilter, "SPF");
    struct RClass *result = mrb_define_class_under(mrb, spf, "Result", mrb->object_class);
    mrb_define_method(mrb, result, "result", result_result, MRB_ARGS_NONE());
    mrb_define_method(mrb, result, "to_s", result_result, MRB_ARGS_NONE());
    mrb_define_method(mrb, result, "domain", result_domain, MRB_ARGS_NONE());
    mrb_define_method(mrb, result, "mechanism", result_mechanism, MRB_ARGS_NONE());
    mrb_define_method(mrb, result, "explanation", result_explanation, MRB_ARGS_NONE());
    mrb_define_method(mrb, result, "problem", result_problem, MRB_ARGS_NONE());
    mrb_define_method(mrb, result, "inspect", result_inspect, MRB_ARGS_NONE());
    struct RClass *session = mrb_class_get_under(mrb, pmilter, "Session");
    mrb_define_method(mrb, session, "spf", session_spf, MRB_ARGS_NONE());
    mrb_define_method(mrb, session, "spf_helo", session_spf_helo, MRB_ARGS_NONE());
}
