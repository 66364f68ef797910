/* mrb_session: Pmilter::Session, the facts of the current SMTP session and
 * message (client, HELO, envelope, TLS and SASL macros) and the envelope
 * edits allowed at eom. A Session object holds nothing itself: every method
 * reads the current call (mrb->ud), so `Pmilter::Session.new` is free and any
 * number of them agree. Facts the MTA did not send read as "". */
#include <libmilter/mfapi.h>
#include <mruby.h>
#include <mruby/class.h>
#include <mruby/string.h>
#include <string.h>

#include "actions.h"
#include "mrb_init.h"

static const char *macro(pm_call_t *call, const char *name)
{
    return call->ctx ? smfi_getsymval(call->ctx, (char *)name) : NULL;
}

static const char *session_field(pm_call_t *call, size_t offset)
{
    return call->session ? *(char **)((char *)call->session + offset) : NULL;
}

#define SESSION_FIELD(method, field)                                                                                   \
    static mrb_value session_##method(mrb_state *mrb, mrb_value self)                                                  \
    {                                                                                                                  \
        return pm_mrb_str(mrb, session_field(pm_mrb_call(mrb), offsetof(pm_session_t, field)));                        \
    }
SESSION_FIELD(client_ipaddr, client_addr)
SESSION_FIELD(client_hostname, client_host)
SESSION_FIELD(helo_hostname, helo)
SESSION_FIELD(envelope_from, envfrom)
SESSION_FIELD(envelope_to, envrcpt)

/* Facts that are milter macros: method name -> macro name. */
static const struct {
    const char *method, *macro;
} macro_methods[] = {
    {"client_daemon", "{daemon_name}"}, {"mail_addr", "{mail_addr}"},     {"rcpt_addr", "{rcpt_addr}"},
    {"myhostname", "j"},                {"message_id", "i"},              {"auth_type", "{auth_type}"},
    {"auth_authen", "{auth_authen}"},   {"auth_author", "{auth_author}"}, {"cert_issuer", "{cert_issuer}"},
    {"cert_subject", "{cert_subject}"}, {"cipher_bits", "{cipher_bits}"}, {"cipher", "{cipher}"},
    {"tls_version", "{tls_version}"},
};

static mrb_value session_macro_method(mrb_state *mrb, mrb_value self)
{
    const char *name = mrb_sym_name(mrb, mrb_get_mid(mrb));
    for (size_t i = 0; i < sizeof macro_methods / sizeof macro_methods[0]; i++)
        if (strcmp(name, macro_methods[i].method) == 0)
            return pm_mrb_str(mrb, macro(pm_mrb_call(mrb), macro_methods[i].macro));
    return pm_mrb_str(mrb, NULL);
}

static mrb_value session_handler_phase_name(mrb_state *mrb, mrb_value self)
{
    return pm_mrb_str(mrb, pm_phase_key(pm_mrb_call(mrb)->phase));
}

static mrb_value session_receive_time(mrb_state *mrb, mrb_value self)
{
    pm_call_t *call = pm_mrb_call(mrb);
    return mrb_int_value(mrb, call->session ? (mrb_int)call->session->receive_time : 0);
}

static mrb_value session_body_chunk(mrb_state *mrb, mrb_value self)
{
    pm_mrb_require_phase(mrb, PM_PHASE_BODY, "Pmilter::Session#body_chunk");
    pm_call_t *call = pm_mrb_call(mrb);
    return mrb_str_new(mrb, (const char *)call->body_chunk, (mrb_int)call->body_len);
}

/* Shared by the envelope edits: raises ArgumentError for bad input and
 * RuntimeError when libmilter refuses. */
static void raise_action_error(mrb_state *mrb, pm_action_result_t rc, const char *method, const char *err)
{
    if (rc == PM_ACTION_INVALID)
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "%s: %s", method, err);
    if (rc == PM_ACTION_FAILED)
        mrb_raisef(mrb, E_RUNTIME_ERROR, "%s: %s", method, err);
}

static mrb_value session_change_envelope_from(mrb_state *mrb, mrb_value self)
{
    const char *method = "Pmilter::Session#change_envelope_from";
    char *addr, *args = NULL;
    mrb_get_args(mrb, "z|z!", &addr, &args);
    pm_mrb_require_phase(mrb, PM_PHASE_EOM, method);
    char err[256];
    raise_action_error(mrb, pm_action_change_from(pm_mrb_call(mrb)->ctx, addr, args, err, sizeof err), method, err);
    return mrb_str_new_cstr(mrb, addr);
}

static mrb_value session_add_envelope_to(mrb_state *mrb, mrb_value self)
{
    const char *method = "Pmilter::Session#add_envelope_to";
    char *addr, *args = NULL;
    mrb_get_args(mrb, "z|z!", &addr, &args);
    pm_mrb_require_phase(mrb, PM_PHASE_EOM, method);
    char err[256];
    raise_action_error(mrb, pm_action_add_rcpt(pm_mrb_call(mrb)->ctx, addr, args, err, sizeof err), method, err);
    return mrb_str_new_cstr(mrb, addr);
}

void pm_mrb_session_init(mrb_state *mrb)
{
    struct RClass *pmilter = mrb_module_get(mrb, "Pmilter");
    struct RClass *session = mrb_define_class_under(mrb, pmilter, "Session", mrb->object_class);
    mrb_define_method(mrb, session, "client_ipaddr", session_client_ipaddr, MRB_ARGS_NONE());
    mrb_define_method(mrb, session, "client_hostname", session_client_hostname, MRB_ARGS_NONE());
    mrb_define_method(mrb, session, "helo_hostname", session_helo_hostname, MRB_ARGS_NONE());
    mrb_define_method(mrb, session, "envelope_from", session_envelope_from, MRB_ARGS_NONE());
    mrb_define_method(mrb, session, "envelope_to", session_envelope_to, MRB_ARGS_NONE());
    mrb_define_method(mrb, session, "rcpt_to", session_envelope_to, MRB_ARGS_NONE());
    for (size_t i = 0; i < sizeof macro_methods / sizeof macro_methods[0]; i++)
        mrb_define_method(mrb, session, macro_methods[i].method, session_macro_method, MRB_ARGS_NONE());
    mrb_define_method(mrb, session, "handler_phase_name", session_handler_phase_name, MRB_ARGS_NONE());
    mrb_define_method(mrb, session, "receive_time", session_receive_time, MRB_ARGS_NONE());
    mrb_define_method(mrb, session, "body_chunk", session_body_chunk, MRB_ARGS_NONE());
    mrb_define_method(mrb, session, "change_envelope_from", session_change_envelope_from, MRB_ARGS_ARG(1, 1));
    mrb_define_method(mrb, session, "add_envelope_to", session_add_envelope_to, MRB_ARGS_ARG(1, 1));
    mrb_define_method(mrb, session, "add_rcpt_to", session_add_envelope_to, MRB_ARGS_ARG(1, 1));
}
