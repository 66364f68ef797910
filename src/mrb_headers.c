/* mrb_headers: Pmilter::Session::Headers. In the header phase, #header is the
 * current header as {"Name" => "value"}; at eom, h["Name"] = "value" adds a
 * header to the message. */
#include <mruby.h>
#include <mruby/class.h>
#include <mruby/hash.h>
#include <mruby/string.h>
#include <string.h>

#include "actions.h"
#include "mrb_init.h"

static mrb_value headers_header(mrb_state *mrb, mrb_value self)
{
    pm_mrb_require_phase(mrb, PM_PHASE_HEADER, "Pmilter::Session::Headers#header");
    pm_call_t *call = pm_mrb_call(mrb);
    mrb_value h = mrb_hash_new_capa(mrb, 1);
    mrb_hash_set(mrb, h, pm_mrb_str(mrb, call->header_name), pm_mrb_str(mrb, call->header_value));
    return h;
}

static mrb_value headers_add(mrb_state *mrb, mrb_value self)
{
    const char *method = "Pmilter::Session::Headers#[]=";
    char *name, *value; /* "z" raises ArgumentError on an embedded NUL */
    mrb_get_args(mrb, "zz", &name, &value);
    pm_mrb_require_phase(mrb, PM_PHASE_EOM, method);
    char err[256];
    pm_action_result_t rc = pm_action_add_header(pm_mrb_call(mrb)->ctx, name, value, strlen(value), err, sizeof err);
    if (rc == PM_ACTION_INVALID)
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "%s: %s", method, err);
    if (rc == PM_ACTION_FAILED)
        mrb_raisef(mrb, E_RUNTIME_ERROR, "%s: %s", method, err);
    return mrb_str_new_cstr(mrb, value);
}

void pm_mrb_headers_init(mrb_state *mrb)
{
    struct RClass *pmilter = mrb_module_get(mrb, "Pmilter");
    struct RClass *session = mrb_class_get_under(mrb, pmilter, "Session");
    struct RClass *headers = mrb_define_class_under(mrb, session, "Headers", mrb->object_class);
    mrb_define_method(mrb, headers, "header", headers_header, MRB_ARGS_NONE());
    mrb_define_method(mrb, headers, "[]=", headers_add, MRB_ARGS_REQ(2));
}
