/* mrb_pmilter: the Pmilter module: the SMFIS_* verdict constants,
 * Pmilter.status / Pmilter.status= (the current callback's verdict) and
 * Pmilter.name. Pmilter::PhaseError is raised by methods used in a phase
 * where they have no meaning. */
#include <libmilter/mfapi.h>
#include <mruby.h>
#include <mruby/class.h>
#include <mruby/variable.h>

#include "ruby/mrb_init.h"

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
    mrb_define_class_under(mrb, pmilter, "PhaseError", mrb->eStandardError_class);
}
