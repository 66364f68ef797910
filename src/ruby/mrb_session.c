/* mrb_session: Pmilter::Session, the facts of the current SMTP session and
 * message: client, HELO, envelope, headers, body, any macro. A Session object
 * holds nothing itself: every method reads the current call (mrb->ud), so
 * `Pmilter::Session.new` is free and any number of them agree. Facts the MTA
 * did not send read as "". Verdicts and edits are in mrb_session_actions.c,
 * the per-session store in mrb_store.c. */
#include <libmilter/mfapi.h>
#include <mruby.h>
#include <mruby/array.h>
#include <mruby/class.h>
#include <mruby/string.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ruby/mrb_init.h"

static pm_session_t *session(mrb_state *mrb)
{
    return pm_mrb_call(mrb)->session;
}

/* A macro by name, with or without braces ("{auth_type}", "auth_type", "i"). */
static const char *macro(pm_call_t *call, const char *name)
{
    if (call->ctx == NULL || name[0] == '\0')
        return NULL;
    const char *v = smfi_getsymval(call->ctx, (char *)name);
    if (v == NULL) {
        char alt[256];
        size_t len = strlen(name);
        if (name[0] == '{' && name[len - 1] == '}' && len > 2)
            snprintf(alt, sizeof alt, "%.*s", (int)(len - 2), name + 1);
        else
            snprintf(alt, sizeof alt, "{%s}", name);
        v = smfi_getsymval(call->ctx, alt);
    }
    return v;
}

static mrb_value argv_to_ary(mrb_state *mrb, char *const *argv)
{
    mrb_value ary = mrb_ary_new(mrb);
    for (size_t i = 0; argv && argv[i]; i++)
        mrb_ary_push(mrb, ary, mrb_str_new_cstr(mrb, argv[i]));
    return ary;
}

#define SESSION_STRING(method, expr)                                                                                   \
    static mrb_value session_##method(mrb_state *mrb, mrb_value self)                                                  \
    {                                                                                                                  \
        pm_session_t *s = session(mrb);                                                                                \
        return pm_mrb_str(mrb, s ? (expr) : NULL);                                                                     \
    }
SESSION_STRING(client_ipaddr, s->client_addr)
SESSION_STRING(client_hostname, s->client_host)
SESSION_STRING(helo_hostname, s->helo)
SESSION_STRING(envelope_from, s->envfrom)
SESSION_STRING(envelope_to, s->last_rcpt.addr)

/* Facts that are milter macros: method name -> macro name. */
static const struct {
    const char *method, *macro;
} macro_methods[] = {
    {"client_daemon", "{daemon_name}"}, {"mail_addr", "{mail_addr}"},     {"rcpt_addr", "{rcpt_addr}"},
    {"myhostname", "j"},                {"message_id", "i"},              {"queue_id", "i"},
    {"auth_type", "{auth_type}"},       {"auth_authen", "{auth_authen}"}, {"auth_author", "{auth_author}"},
    {"cert_issuer", "{cert_issuer}"},   {"cert_subject", "{cert_subject}"}, {"cipher_bits", "{cipher_bits}"},
    {"cipher", "{cipher}"},             {"tls_version", "{tls_version}"},
};

static mrb_value session_macro_method(mrb_state *mrb, mrb_value self)
{
    const char *name = mrb_sym_name(mrb, mrb_get_mid(mrb));
    for (size_t i = 0; i < sizeof macro_methods / sizeof macro_methods[0]; i++)
        if (strcmp(name, macro_methods[i].method) == 0)
            return pm_mrb_str(mrb, macro(pm_mrb_call(mrb), macro_methods[i].macro));
    return pm_mrb_str(mrb, NULL);
}

static mrb_value session_macro(mrb_state *mrb, mrb_value self)
{
    char *name;
    mrb_get_args(mrb, "z", &name);
    return pm_mrb_str(mrb, macro(pm_mrb_call(mrb), name));
}

static mrb_value session_handler_phase_name(mrb_state *mrb, mrb_value self)
{
    return pm_mrb_str(mrb, pm_phase_key(pm_mrb_call(mrb)->phase));
}

static mrb_value session_receive_time(mrb_state *mrb, mrb_value self)
{
    pm_session_t *s = session(mrb);
    return mrb_int_value(mrb, s ? (mrb_int)s->receive_time : 0);
}

static mrb_value session_client_port(mrb_state *mrb, mrb_value self)
{
    pm_session_t *s = session(mrb);
    return mrb_int_value(mrb, s ? s->client_port : 0);
}

static mrb_value session_client_family(mrb_state *mrb, mrb_value self)
{
    pm_session_t *s = session(mrb);
    switch (s ? s->client_family : AF_UNSPEC) {
    case AF_INET: return mrb_str_new_lit(mrb, "inet");
    case AF_INET6: return mrb_str_new_lit(mrb, "inet6");
    case AF_UNIX: return mrb_str_new_lit(mrb, "unix");
    default: return mrb_str_new_lit(mrb, "unknown");
    }
}

static mrb_value session_envelope_from_args(mrb_state *mrb, mrb_value self)
{
    pm_session_t *s = session(mrb);
    return argv_to_ary(mrb, s ? s->envfrom_args : NULL);
}

static mrb_value session_envelope_to_args(mrb_state *mrb, mrb_value self)
{
    pm_session_t *s = session(mrb);
    return argv_to_ary(mrb, s ? s->last_rcpt.args : NULL);
}

static mrb_value session_envelope_to_all(mrb_state *mrb, mrb_value self)
{
    pm_session_t *s = session(mrb);
    mrb_value ary = mrb_ary_new(mrb);
    for (size_t i = 0; s && i < s->n_rcpts; i++)
        mrb_ary_push(mrb, ary, mrb_str_new_cstr(mrb, s->rcpts[i].addr));
    return ary;
}

static mrb_value session_headers(mrb_state *mrb, mrb_value self)
{
    pm_session_t *s = session(mrb);
    mrb_value ary = mrb_ary_new_capa(mrb, s ? (mrb_int)s->n_headers : 0);
    for (size_t i = 0; s && i < s->n_headers; i++) {
        mrb_value pair[2] = {mrb_str_new_cstr(mrb, s->headers[i].name), mrb_str_new_cstr(mrb, s->headers[i].value)};
        mrb_ary_push(mrb, ary, mrb_ary_new_from_values(mrb, 2, pair));
    }
    return ary;
}

static mrb_value session_body(mrb_state *mrb, mrb_value self)
{
    pm_session_t *s = session(mrb);
    return s && s->body.len ? mrb_str_new(mrb, s->body.data, (mrb_int)s->body.len) : mrb_str_new_lit(mrb, "");
}

static mrb_value session_body_truncated(mrb_state *mrb, mrb_value self)
{
    pm_session_t *s = session(mrb);
    return mrb_bool_value(s && s->body.truncated);
}

static mrb_value session_message_size(mrb_state *mrb, mrb_value self)
{
    pm_session_t *s = session(mrb);
    return mrb_int_value(mrb, s ? (mrb_int)s->message_size : 0);
}

static mrb_value session_body_chunk(mrb_state *mrb, mrb_value self)
{
    pm_mrb_require_phase(mrb, PM_PHASE_BODY, "Pmilter::Session#body_chunk");
    pm_call_t *call = pm_mrb_call(mrb);
    return mrb_str_new(mrb, (const char *)call->body_chunk, (mrb_int)call->body_len);
}

static mrb_value session_unknown_command(mrb_state *mrb, mrb_value self)
{
    pm_mrb_require_phase(mrb, PM_PHASE_UNKNOWN, "Pmilter::Session#unknown_command");
    return pm_mrb_str(mrb, pm_mrb_call(mrb)->unknown_cmd);
}

void pm_mrb_session_init(mrb_state *mrb)
{
    struct RClass *pmilter = mrb_module_get(mrb, "Pmilter");
    struct RClass *session = mrb_define_class_under(mrb, pmilter, "Session", mrb->object_class);
    pm_mrb_define_plain_new(mrb, session);
    static const struct {
        const char *name;
        mrb_func_t func;
    } methods[] = {
        {"client_ipaddr", session_client_ipaddr},
        {"client_hostname", session_client_hostname},
        {"client_port", session_client_port},
        {"client_family", session_client_family},
        {"helo_hostname", session_helo_hostname},
        {"envelope_from", session_envelope_from},
        {"envelope_from_args", session_envelope_from_args},
        {"envelope_to", session_envelope_to},
        {"rcpt_to", session_envelope_to},
        {"envelope_to_args", session_envelope_to_args},
        {"envelope_to_all", session_envelope_to_all},
        {"handler_phase_name", session_handler_phase_name},
        {"receive_time", session_receive_time},
        {"headers", session_headers},
        {"body", session_body},
        {"body_truncated?", session_body_truncated},
        {"message_size", session_message_size},
        {"body_chunk", session_body_chunk},
        {"unknown_command", session_unknown_command},
    };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        mrb_define_method(mrb, session, methods[i].name, methods[i].func, MRB_ARGS_NONE());
    for (size_t i = 0; i < sizeof macro_methods / sizeof macro_methods[0]; i++)
        mrb_define_method(mrb, session, macro_methods[i].method, session_macro_method, MRB_ARGS_NONE());
    mrb_define_method(mrb, session, "macro", session_macro, MRB_ARGS_REQ(1));
}
