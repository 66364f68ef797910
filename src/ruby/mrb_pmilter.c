/* mrb_pmilter: the Pmilter module: the SMFIS_* verdict constants,
 * Pmilter.status / Pmilter.status= (the current callback's verdict),
 * Pmilter.name and Pmilter.log (pmilter's own log, core/log.h).
 * Pmilter::PhaseError is raised by methods used in a phase where they have
 * no meaning. Threads: whichever worker runs the VM (one at a time). */
#include <libmilter/mfapi.h>
#include <mruby.h>
#include <mruby/array.h>
#include <mruby/class.h>
#include <mruby/hash.h>
#include <mruby/string.h>
#include <mruby/variable.h>
#include <string.h>

#include "core/log.h"
#include "ruby/mrb_init.h"

#define HANDLER_LOG_FIELDS_MAX 32 /* keyword fields of one Pmilter.log call */

static mrb_value pmilter_name(mrb_state *mrb, mrb_value self)
{
    pm_call_t *call = mrb->ud;
    return pm_mrb_str(mrb, call && call->cfg ? call->cfg->name : "pmilter");
}

static mrb_value pmilter_status(mrb_state *mrb, mrb_value self)
{
    return mrb_fixnum_value(pm_mrb_call(mrb)->status);
}

static mrb_value pmilter_set_status(mrb_state *mrb, mrb_value self)
{
    mrb_value v;
    mrb_get_args(mrb, "o", &v);
    if (!mrb_integer_p(v))
        mrb_raisef(mrb, E_TYPE_ERROR, "Pmilter.status= expects a Pmilter::SMFIS_* constant, got %v", v);
    switch (mrb_integer(v)) {
    case SMFIS_CONTINUE:
    case SMFIS_REJECT:
    case SMFIS_DISCARD:
    case SMFIS_ACCEPT:
    case SMFIS_TEMPFAIL:
    case SMFIS_NOREPLY:
    case SMFIS_SKIP:
    case SMFIS_ALL_OPTS:
        break;
    default:
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "Pmilter.status= %v is not a Pmilter::SMFIS_* value", v);
    }
    pm_call_t *call = pm_mrb_call(mrb);
    pm_mrb_check_reply_matches(mrb, call, (int)mrb_integer(v), NULL);
    call->status = (int)mrb_integer(v);
    return v;
}

/* :info, "warn", ...: the level named, or ArgumentError. */
static pm_log_level_t log_level_of(mrb_state *mrb, mrb_value v)
{
    const char *name = mrb_symbol_p(v) ? mrb_sym_name(mrb, mrb_symbol(v)) : mrb_string_p(v) ? mrb_str_to_cstr(mrb, v) : NULL;
    int level = name ? pm_log_level_from_name(name) : -1;
    if (level < 0)
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "Pmilter.log: level %!v is not one of :debug, :info, :notice, :warn, :error", v);
    return (pm_log_level_t)level;
}

/* Field names pmilter sets itself on every handler line. */
static int reserved_field(const char *name)
{
    static const char *const own[] = {"time", "level", "msg", "event", "session", "queue_id", "phase"};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (strcmp(name, own[i]) == 0)
            return 1;
    return 0;
}

/* One keyword argument as a field: Integers stay numbers, anything else is its to_s. */
static pm_log_field_t handler_field(mrb_state *mrb, mrb_value key, mrb_value value)
{
    /* A copy: mrb_sym_name may hand out the VM's one scratch buffer. */
    const char *name = mrb_symbol_p(key) ? mrb_str_to_cstr(mrb, mrb_sym_str(mrb, mrb_symbol(key))) : "";
    if (!pm_log_field_name_valid(name) || reserved_field(name))
        mrb_raisef(mrb, E_ARGUMENT_ERROR,
                   "Pmilter.log: field name %!v: expected 1-32 of a-z, 0-9 and _, starting with a letter, and not "
                   "time, level, msg, event, session, queue_id or phase",
                   key);
    if (mrb_integer_p(value))
        return (pm_log_field_t){name, PM_LOG_INT, .num = mrb_integer(value)};
    return (pm_log_field_t){name, PM_LOG_STR, .str = mrb_str_to_cstr(mrb, mrb_obj_as_string(mrb, value))};
}

/* Pmilter.log(level, msg, **fields): a line in pmilter's log (docs/logging.md),
 * tagged with the session, queue id and phase. Field names are checked even
 * when the level is not logged, so a mistake shows at once. */
static mrb_value pmilter_log(mrb_state *mrb, mrb_value self)
{
    mrb_value level_v, msg_v, rest = mrb_nil_value();
    mrb_kwargs kw = {0, 0, NULL, NULL, &rest};
    mrb_get_args(mrb, "oo:", &level_v, &msg_v, &kw);
    pm_log_level_t level = log_level_of(mrb, level_v);
    const char *msg = mrb_str_to_cstr(mrb, mrb_obj_as_string(mrb, msg_v));
    mrb_value keys = mrb_hash_p(rest) ? mrb_hash_keys(mrb, rest) : mrb_ary_new(mrb);
    if (RARRAY_LEN(keys) > HANDLER_LOG_FIELDS_MAX)
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "Pmilter.log: %d fields, at most %d", (int)RARRAY_LEN(keys),
                   HANDLER_LOG_FIELDS_MAX);
    pm_log_field_t f[4 + HANDLER_LOG_FIELDS_MAX];
    size_t n = 0;
    const pm_call_t *call = mrb->ud; /* NULL while a library file loads */
    f[n++] = (pm_log_field_t){"event", PM_LOG_STR, .str = "handler"};
    if (call && call->session) {
        const char *queue_id = call->ctx ? smfi_getsymval(call->ctx, "i") : NULL;
        f[n++] = (pm_log_field_t){"session", PM_LOG_INT, .num = (long long)call->session->id};
        f[n++] = (pm_log_field_t){"queue_id", PM_LOG_STR, .str = queue_id && *queue_id ? queue_id : NULL};
    }
    if (call)
        f[n++] = (pm_log_field_t){"phase", PM_LOG_STR, .str = pm_phase_name(call->phase)};
    for (mrb_int i = 0; i < RARRAY_LEN(keys); i++) {
        mrb_value key = RARRAY_PTR(keys)[i];
        f[n++] = handler_field(mrb, key, mrb_hash_get(mrb, rest, key));
    }
    pm_log_fields(level, f, n, "%s", msg);
    return mrb_nil_value();
}

void pm_mrb_pmilter_init(mrb_state *mrb)
{
    struct RClass *pmilter = mrb_define_module(mrb, "Pmilter");
    static const struct {
        const char *name;
        int value;
    } constants[] = {
        {"SMFIS_CONTINUE", SMFIS_CONTINUE}, {"SMFIS_REJECT", SMFIS_REJECT}, {"SMFIS_DISCARD", SMFIS_DISCARD},
        {"SMFIS_ACCEPT", SMFIS_ACCEPT},     {"SMFIS_TEMPFAIL", SMFIS_TEMPFAIL}, {"SMFIS_NOREPLY", SMFIS_NOREPLY},
        {"SMFIS_SKIP", SMFIS_SKIP},         {"SMFIS_ALL_OPTS", SMFIS_ALL_OPTS},
    };
    for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++)
        mrb_define_const(mrb, pmilter, constants[i].name, mrb_fixnum_value(constants[i].value));
    mrb_define_class_method(mrb, pmilter, "name", pmilter_name, MRB_ARGS_NONE());
    mrb_define_class_method(mrb, pmilter, "status", pmilter_status, MRB_ARGS_NONE());
    mrb_define_class_method(mrb, pmilter, "status=", pmilter_set_status, MRB_ARGS_REQ(1));
    mrb_define_class_method(mrb, pmilter, "log", pmilter_log, MRB_ARGS_REQ(2) | MRB_ARGS_KEY(0, 1));
    mrb_define_class_under(mrb, pmilter, "PhaseError", mrb->eStandardError_class);
}
