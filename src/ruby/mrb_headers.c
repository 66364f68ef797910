/* mrb_headers: Pmilter::Session::Headers. Reading: #header (the current
 * header in the header phase, as {"Name" => "value"}), #[] and #fetch_all
 * (the message's headers received so far). Writing, at eom only as the
 * protocol demands: #[]= / #add, #insert, #change, #delete. */
#include <mruby.h>
#include <mruby/array.h>
#include <mruby/class.h>
#include <mruby/hash.h>
#include <mruby/string.h>
#include <string.h>
#include <strings.h>

#include "milter/actions.h"
#include "ruby/mrb_init.h"

static mrb_value headers_header(mrb_state *mrb, mrb_value self)
{
    pm_mrb_require_phase(mrb, PM_PHASE_HEADER, "Pmilter::Session::Headers#header");
    pm_call_t *call = pm_mrb_call(mrb);
    mrb_value h = mrb_hash_new_capa(mrb, 1);
    mrb_hash_set(mrb, h, pm_mrb_str(mrb, call->header_name), pm_mrb_str(mrb, call->header_value));
    return h;
}

/* Values of the received headers called name (case-insensitive), in order;
 * only the first if first_only. */
static mrb_value find(mrb_state *mrb, int first_only)
{
    char *name;
    mrb_get_args(mrb, "z", &name);
    pm_session_t *s = pm_mrb_call(mrb)->session;
    mrb_value all = mrb_ary_new(mrb);
    for (size_t i = 0; s && i < s->n_headers; i++) {
        if (strcasecmp(s->headers[i].name, name) != 0)
            continue;
        mrb_value v = mrb_str_new_cstr(mrb, s->headers[i].value);
        if (first_only)
            return v;
        mrb_ary_push(mrb, all, v);
    }
    return first_only ? mrb_nil_value() : all;
}

static mrb_value headers_get(mrb_state *mrb, mrb_value self)
{
    return find(mrb, 1);
}

static mrb_value headers_fetch_all(mrb_state *mrb, mrb_value self)
{
    return find(mrb, 0);
}

/* The two String arguments of add/[]= as C strings, as mrb_get_args "zz"
 * takes them (same errors: wrong count, not a String, an embedded NUL) without
 * parsing a format on every header an eom handler adds. */
static void two_cstrs(mrb_state *mrb, const char **a, const char **b)
{
    mrb_int argc = mrb_get_argc(mrb);
    if (argc != 2)
        mrb_argnum_error(mrb, argc, 2, 2);
    const mrb_value *argv = mrb_get_argv(mrb);
    *a = mrb_string_cstr(mrb, mrb_ensure_string_type(mrb, argv[0]));
    *b = mrb_string_cstr(mrb, mrb_ensure_string_type(mrb, argv[1]));
}

static mrb_value headers_add(mrb_state *mrb, mrb_value self)
{
    const char *name, *value;
    char err[256];
    two_cstrs(mrb, &name, &value);
    pm_mrb_require_phase(mrb, PM_PHASE_EOM, "Pmilter::Session::Headers#add");
    pm_mrb_raise_action(mrb, pm_action_add_header(pm_mrb_call(mrb)->ctx, name, value, strlen(value), err, sizeof err),
          "Pmilter::Session::Headers#add", err);
    pm_call_note_edit(pm_mrb_call(mrb), 'a', 0, name, value);
    return mrb_get_argv(mrb)[1]; /* the value String itself, as Hash#[]= returns it: no copy per header */
}

/* insert(index, name, value): index 0 puts it first. */
static mrb_value headers_insert(mrb_state *mrb, mrb_value self)
{
    mrb_int index;
    char *name, *value, err[256];
    mrb_get_args(mrb, "izz", &index, &name, &value);
    pm_mrb_require_phase(mrb, PM_PHASE_EOM, "Pmilter::Session::Headers#insert");
    if (index < 0 || index > 1000000)
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "Pmilter::Session::Headers#insert: index %i out of range", index);
    pm_mrb_raise_action(mrb, pm_action_insert_header(pm_mrb_call(mrb)->ctx, (int)index, name, value, err, sizeof err),
          "Pmilter::Session::Headers#insert", err);
    pm_call_note_edit(pm_mrb_call(mrb), 'i', (int)index, name, value);
    return mrb_str_new_cstr(mrb, value);
}

/* change(name, value, index = 1): the index'th header called name. */
static mrb_value headers_change(mrb_state *mrb, mrb_value self)
{
    mrb_int index = 1;
    char *name, *value, err[256];
    mrb_get_args(mrb, "zz|i", &name, &value, &index);
    pm_mrb_require_phase(mrb, PM_PHASE_EOM, "Pmilter::Session::Headers#change");
    if (index < 1 || index > 1000000)
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "Pmilter::Session::Headers#change: index %i out of range (1-)", index);
    pm_mrb_raise_action(mrb, pm_action_change_header(pm_mrb_call(mrb)->ctx, name, (int)index, value, err, sizeof err),
          "Pmilter::Session::Headers#change", err);
    pm_call_note_edit(pm_mrb_call(mrb), 'c', (int)index, name, value);
    return mrb_str_new_cstr(mrb, value);
}

/* delete(name, index = 1) */
static mrb_value headers_delete(mrb_state *mrb, mrb_value self)
{
    mrb_int index = 1;
    char *name, err[256];
    mrb_get_args(mrb, "z|i", &name, &index);
    pm_mrb_require_phase(mrb, PM_PHASE_EOM, "Pmilter::Session::Headers#delete");
    if (index < 1 || index > 1000000)
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "Pmilter::Session::Headers#delete: index %i out of range (1-)", index);
    pm_mrb_raise_action(mrb, pm_action_change_header(pm_mrb_call(mrb)->ctx, name, (int)index, NULL, err, sizeof err),
          "Pmilter::Session::Headers#delete", err);
    pm_call_note_edit(pm_mrb_call(mrb), 'c', (int)index, name, NULL);
    return mrb_nil_value();
}

void pm_mrb_headers_init(mrb_state *mrb)
{
    struct RClass *pmilter = mrb_module_get(mrb, "Pmilter");
    struct RClass *session = mrb_class_get_under(mrb, pmilter, "Session");
    struct RClass *headers = mrb_define_class_under(mrb, session, "Headers", mrb->object_class);
    pm_mrb_define_plain_new(mrb, headers);
    mrb_define_method(mrb, headers, "header", headers_header, MRB_ARGS_NONE());
    mrb_define_method(mrb, headers, "[]", headers_get, MRB_ARGS_REQ(1));
    mrb_define_method(mrb, headers, "fetch_all", headers_fetch_all, MRB_ARGS_REQ(1));
    mrb_define_method(mrb, headers, "[]=", headers_add, MRB_ARGS_REQ(2));
    mrb_define_method(mrb, headers, "add", headers_add, MRB_ARGS_REQ(2));
    mrb_define_method(mrb, headers, "insert", headers_insert, MRB_ARGS_REQ(3));
    mrb_define_method(mrb, headers, "change", headers_change, MRB_ARGS_ARG(2, 1));
    mrb_define_method(mrb, headers, "delete", headers_delete, MRB_ARGS_ARG(1, 1));
}
