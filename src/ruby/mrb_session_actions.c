/* mrb_session_actions: what a handler tells the MTA through Pmilter::Session:
 * verdicts (accept!, reject!, ...), the SMTP reply text (set_reply), and the
 * envelope, body and quarantine edits that the protocol allows at eom only.
 * Bad input raises ArgumentError here, before anything reaches libmilter. */
#include <libmilter/mfapi.h>
#include <mruby.h>
#include <mruby/class.h>
#include <mruby/string.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "milter/actions.h"
#include "ruby/mrb_init.h"

void pm_mrb_check_reply_matches(mrb_state *mrb, const pm_call_t *call, int status, const char *rcode)
{
    if (rcode == NULL)
        rcode = call->reply.rcode;
    if (rcode[0] == '\0')
        return;
    if ((status == SMFIS_REJECT && rcode[0] != '5') || (status == SMFIS_TEMPFAIL && rcode[0] != '4'))
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "reply code %s does not match the %s verdict (reject needs 5xx, tempfail 4xx)",
                   rcode, status == SMFIS_REJECT ? "reject" : "tempfail");
}

/* Records the reply for status. Everything that may raise (bad lines, a code
 * that contradicts the verdict) is checked before anything is allocated in C. */
static void set_reply(mrb_state *mrb, pm_call_t *call, int status, const char *rcode, const char *xcode,
                      const mrb_value *lines, mrb_int n_lines)
{
    for (mrb_int i = 0; i < n_lines; i++)
        if (!mrb_string_p(lines[i]) || memchr(RSTRING_PTR(lines[i]), '\0', (size_t)RSTRING_LEN(lines[i])))
            mrb_raise(mrb, E_ARGUMENT_ERROR, "Pmilter::Session#set_reply: reply lines must be Strings without NUL");
    pm_mrb_check_reply_matches(mrb, call, status, rcode);
    char **copy = pm_calloc((size_t)n_lines + 1, sizeof *copy);
    for (mrb_int i = 0; i < n_lines; i++)
        copy[i] = pm_strndup(RSTRING_PTR(lines[i]), (size_t)RSTRING_LEN(lines[i]));
    char err[256];
    if (pm_valid_reply(rcode, xcode, copy, (size_t)n_lines, err, sizeof err) != 0) {
        pm_argv_free(copy);
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "Pmilter::Session#set_reply: %s", err); /* nothing left allocated */
    }
    pm_reply_clear(&call->reply);
    snprintf(call->reply.rcode, sizeof call->reply.rcode, "%s", rcode);
    call->reply.xcode = xcode ? pm_strdup(xcode) : NULL;
    call->reply.lines = copy;
}

/* set_reply(rcode, xcode = nil, *lines): rcode as "550" or 550. */
static mrb_value session_set_reply(mrb_state *mrb, mrb_value self)
{
    mrb_value code, xcode = mrb_nil_value();
    const mrb_value *lines;
    mrb_int n_lines;
    mrb_get_args(mrb, "o|o*", &code, &xcode, &lines, &n_lines);
    pm_call_t *call = pm_mrb_call(mrb);
    mrb_value rcode = mrb_obj_as_string(mrb, code);
    for (mrb_int i = 0; i < n_lines; i++)
        if (!mrb_string_p(lines[i]))
            mrb_raisef(mrb, E_TYPE_ERROR, "Pmilter::Session#set_reply: reply lines must be Strings, got %v", lines[i]);
    if (!mrb_nil_p(xcode) && !mrb_string_p(xcode))
        mrb_raisef(mrb, E_TYPE_ERROR, "Pmilter::Session#set_reply: xcode must be a String or nil, got %v", xcode);
    set_reply(mrb, call, call->status, mrb_string_value_cstr(mrb, &rcode),
              mrb_nil_p(xcode) ? NULL : mrb_string_value_cstr(mrb, &xcode), lines, n_lines);
    return mrb_nil_value();
}

static mrb_value set_verdict(mrb_state *mrb, int status)
{
    pm_call_t *call = pm_mrb_call(mrb);
    pm_mrb_check_reply_matches(mrb, call, status, NULL);
    call->status = status;
    return mrb_fixnum_value(status);
}

/* reject!(text = nil) / tempfail!(text = nil): the verdict, and with text the
 * reply "550 5.7.1 text" / "451 4.7.1 text". */
static mrb_value verdict_with_text(mrb_state *mrb, int status, const char *rcode, const char *xcode)
{
    mrb_value text = mrb_nil_value();
    mrb_get_args(mrb, "|S!", &text);
    pm_call_t *call = pm_mrb_call(mrb);
    if (mrb_nil_p(text))
        return set_verdict(mrb, status); /* raises if an earlier reply contradicts it */
    set_reply(mrb, call, status, rcode, xcode, &text, 1); /* replaces any earlier reply */
    call->status = status;
    return mrb_fixnum_value(status);
}

static mrb_value session_reject(mrb_state *mrb, mrb_value self)
{
    return verdict_with_text(mrb, SMFIS_REJECT, "550", "5.7.1");
}

static mrb_value session_tempfail(mrb_state *mrb, mrb_value self)
{
    return verdict_with_text(mrb, SMFIS_TEMPFAIL, "451", "4.7.1");
}

static mrb_value session_accept(mrb_state *mrb, mrb_value self)
{
    return set_verdict(mrb, SMFIS_ACCEPT);
}

static mrb_value session_discard(mrb_state *mrb, mrb_value self)
{
    return set_verdict(mrb, SMFIS_DISCARD);
}

static mrb_value session_continue(mrb_state *mrb, mrb_value self)
{
    return set_verdict(mrb, SMFIS_CONTINUE);
}

/* The eom-only edits share this shape: check the phase, call, raise on failure. */
#define EOM_ONLY(method) pm_mrb_require_phase(mrb, PM_PHASE_EOM, "Pmilter::Session#" method)

static mrb_value session_change_envelope_from(mrb_state *mrb, mrb_value self)
{
    char *addr, *args = NULL, err[256];
    mrb_get_args(mrb, "z|z!", &addr, &args);
    EOM_ONLY("change_envelope_from");
    pm_mrb_raise_action(mrb, pm_action_change_from(pm_mrb_call(mrb)->ctx, addr, args, err, sizeof err),
                     "Pmilter::Session#change_envelope_from", err);
    return mrb_str_new_cstr(mrb, addr);
}

static mrb_value session_add_envelope_to(mrb_state *mrb, mrb_value self)
{
    char *addr, *args = NULL, err[256];
    mrb_get_args(mrb, "z|z!", &addr, &args);
    EOM_ONLY("add_envelope_to");
    pm_mrb_raise_action(mrb, pm_action_add_rcpt(pm_mrb_call(mrb)->ctx, addr, args, err, sizeof err),
                     "Pmilter::Session#add_envelope_to", err);
    return mrb_str_new_cstr(mrb, addr);
}

static mrb_value session_delete_envelope_to(mrb_state *mrb, mrb_value self)
{
    char *addr, err[256];
    mrb_get_args(mrb, "z", &addr);
    EOM_ONLY("delete_envelope_to");
    pm_mrb_raise_action(mrb, pm_action_delete_rcpt(pm_mrb_call(mrb)->ctx, addr, err, sizeof err),
                     "Pmilter::Session#delete_envelope_to", err);
    return mrb_str_new_cstr(mrb, addr);
}

static mrb_value session_replace_body(mrb_state *mrb, mrb_value self)
{
    mrb_value body;
    char err[256];
    mrb_get_args(mrb, "S", &body);
    EOM_ONLY("replace_body");
    if (pm_mrb_call(mrb)->mime_edited) /* the rebuilt MIME body would be sent after this one */
        mrb_raise(mrb, E_RUNTIME_ERROR, "Pmilter::Session#replace_body: the message's MIME parts were edited; use one or the other");
    pm_mrb_raise_action(mrb,
                     pm_action_replace_body(pm_mrb_call(mrb)->ctx, RSTRING_PTR(body), (size_t)RSTRING_LEN(body), err,
                                            sizeof err),
                     "Pmilter::Session#replace_body", err);
    pm_mrb_call(mrb)->body_replaced = 1;
    return mrb_int_value(mrb, RSTRING_LEN(body));
}

static mrb_value session_quarantine(mrb_state *mrb, mrb_value self)
{
    char *reason, err[256];
    mrb_get_args(mrb, "z", &reason);
    EOM_ONLY("quarantine");
    pm_mrb_raise_action(mrb, pm_action_quarantine(pm_mrb_call(mrb)->ctx, reason, err, sizeof err),
                     "Pmilter::Session#quarantine", err);
    return mrb_str_new_cstr(mrb, reason);
}

static mrb_value session_progress(mrb_state *mrb, mrb_value self)
{
    char err[256];
    EOM_ONLY("progress");
    pm_mrb_raise_action(mrb, pm_action_progress(pm_mrb_call(mrb)->ctx, err, sizeof err), "Pmilter::Session#progress",
                     err);
    return mrb_nil_value();
}

void pm_mrb_session_actions_init(mrb_state *mrb)
{
    struct RClass *session = mrb_class_get_under(mrb, mrb_module_get(mrb, "Pmilter"), "Session");
    mrb_define_method(mrb, session, "accept!", session_accept, MRB_ARGS_NONE());
    mrb_define_method(mrb, session, "reject!", session_reject, MRB_ARGS_OPT(1));
    mrb_define_method(mrb, session, "tempfail!", session_tempfail, MRB_ARGS_OPT(1));
    mrb_define_method(mrb, session, "discard!", session_discard, MRB_ARGS_NONE());
    mrb_define_method(mrb, session, "continue!", session_continue, MRB_ARGS_NONE());
    mrb_define_method(mrb, session, "set_reply", session_set_reply, MRB_ARGS_ARG(1, 1) | MRB_ARGS_REST());
    mrb_define_method(mrb, session, "progress", session_progress, MRB_ARGS_NONE());
    mrb_define_method(mrb, session, "change_envelope_from", session_change_envelope_from, MRB_ARGS_ARG(1, 1));
    mrb_define_method(mrb, session, "add_envelope_to", session_add_envelope_to, MRB_ARGS_ARG(1, 1));
    mrb_define_method(mrb, session, "add_rcpt_to", session_add_envelope_to, MRB_ARGS_ARG(1, 1));
    mrb_define_method(mrb, session, "delete_envelope_to", session_delete_envelope_to, MRB_ARGS_REQ(1));
    mrb_define_method(mrb, session, "delete_rcpt_to", session_delete_envelope_to, MRB_ARGS_REQ(1));
    mrb_define_method(mrb, session, "replace_body", session_replace_body, MRB_ARGS_REQ(1));
    mrb_define_method(mrb, session, "quarantine", session_quarantine, MRB_ARGS_REQ(1));
}
