/* mrb_mime: Session#mime, Session#subject, Pmilter::MIME.decode_header, .urls and
 * Pmilter::MIME::Part (docs/mime.md). The parse (src/mime) is made on the
 * first Session#mime of a message, kept in the session (s->mime) for every
 * later handler and freed at the end of the message. A Part object holds
 * only its index; its methods read the session's parse, so a Part kept past
 * its message raises Pmilter::PhaseError instead of reading freed memory.
 * Edits (remove!, replace!, append_text_note) change the parse; when the eom
 * handler returns, pm_mrb_mime_apply sends the rebuilt body and root MIME
 * headers to the MTA (called by the runner).
 * Threads: the thread that holds the VM (and serves the session). */
#include <mruby.h>
#include <mruby/array.h>
#include <mruby/class.h>
#include <mruby/hash.h>
#include <mruby/string.h>
#include <mruby/variable.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/log.h"
#include "milter/actions.h"
#include "mime/mime.h"
#include "milter/session.h"
#include "ruby/mrb_init.h"
#include "ruby/mrb_mime.h"
#include "regexp/mrb_regexp.h"

static struct RClass *mime_module(mrb_state *mrb)
{
    return mrb_module_get_under(mrb, mrb_module_get(mrb, "Pmilter"), "MIME");
}

static struct RClass *edit_error(mrb_state *mrb)
{
    return mrb_class_get_under(mrb, mime_module(mrb), "EditError");
}

static struct RClass *part_class(mrb_state *mrb)
{
    return mrb_class_get_under(mrb, mime_module(mrb), "Part");
}

/* The message as GMime reads it: kept header lines, an empty line, the body. */
static pm_buf_t raw_message(const pm_session_t *s)
{
    pm_buf_t raw;
    pm_buf_init(&raw, (size_t)-1);
    for (size_t i = 0; i < s->n_headers; i++) {
        pm_buf_append(&raw, s->headers[i].name, strlen(s->headers[i].name));
        pm_buf_append(&raw, ": ", 2);
        pm_buf_append(&raw, s->headers[i].value, strlen(s->headers[i].value));
        pm_buf_append(&raw, "\r\n", 2);
    }
    pm_buf_append(&raw, "\r\n", 2);
    if (s->body.len)
        pm_buf_append(&raw, s->body.data, s->body.len);
    return raw;
}

static pm_mime_t *parse_once(mrb_state *mrb, pm_call_t *call)
{
    pm_session_t *s = call->session;
    if (s->mime == NULL) {
        pm_mime_limits_t lim = {call->cfg->mime_max_depth, (size_t)call->cfg->mime_max_parts,
                                (size_t)call->cfg->mime_max_decoded_size};
        pm_buf_t raw = raw_message(s);
        s->mime = pm_mime_parse(raw.data ? raw.data : "", raw.len, s->body.truncated, &lim);
        pm_buf_reset(&raw);
        if (s->mime->limit_error)
            pm_warn("session %lu: Session#mime: %s", s->id, s->mime->limit_error);
        else
            pm_debug("session %lu: Session#mime: %zu parts parsed", s->id, s->mime->n_parts);
    }
    return s->mime;
}

static mrb_value part_object(mrb_state *mrb, size_t index)
{
    mrb_value p = mrb_obj_new(mrb, part_class(mrb), 0, NULL);
    mrb_iv_set(mrb, p, mrb_intern_lit(mrb, "__pm_part"), mrb_int_value(mrb, (mrb_int)index));
    return p;
}

static mrb_value session_mime(mrb_state *mrb, mrb_value self)
{
    pm_mrb_require_phase(mrb, PM_PHASE_EOM, "Pmilter::Session#mime");
    pm_mime_t *m = parse_once(mrb, pm_mrb_call(mrb));
    if (m->limit_error)
        mrb_raisef(mrb, mrb_class_get_under(mrb, mime_module(mrb), "LimitError"), "Pmilter::Session#mime: %s",
                   m->limit_error);
    return part_object(mrb, 0);
}

/* The part self stands for, in the running message's parse. */
static const pm_mime_part_t *part_of(mrb_state *mrb, mrb_value self, size_t *index)
{
    pm_call_t *call = pm_mrb_call(mrb);
    mrb_value i = mrb_iv_get(mrb, self, mrb_intern_lit(mrb, "__pm_part"));
    pm_mime_t *m = call->session && call->phase == PM_PHASE_EOM ? call->session->mime : NULL;
    if (m == NULL || !mrb_integer_p(i) || (size_t)mrb_integer(i) >= m->n_parts)
        mrb_raise(mrb, mrb_class_get_under(mrb, mrb_module_get(mrb, "Pmilter"), "PhaseError"),
                  "Pmilter::MIME::Part is only usable in the eom handler of its message");
    if (index)
        *index = (size_t)mrb_integer(i);
    return &m->parts[mrb_integer(i)];
}

static mrb_value str_or_nil(mrb_state *mrb, const char *s)
{
    return s ? mrb_str_new_cstr(mrb, s) : mrb_nil_value();
}

static mrb_value part_content_type(mrb_state *mrb, mrb_value self)
{
    return mrb_str_new_cstr(mrb, part_of(mrb, self, NULL)->content_type);
}

static mrb_value part_params(mrb_state *mrb, mrb_value self)
{
    const pm_mime_part_t *p = part_of(mrb, self, NULL);
    mrb_value h = mrb_hash_new(mrb);
    for (char **l = p->params; l && l[0]; l += 2)
        mrb_hash_set(mrb, h, mrb_str_new_cstr(mrb, l[0]), mrb_str_new_cstr(mrb, l[1]));
    return h;
}

static mrb_value part_headers(mrb_state *mrb, mrb_value self)
{
    const pm_mime_part_t *p = part_of(mrb, self, NULL);
    mrb_value a = mrb_ary_new(mrb);
    for (char **l = p->headers; l && l[0]; l += 2) {
        mrb_value pair[2] = {mrb_str_new_cstr(mrb, l[0]), mrb_str_new_cstr(mrb, l[1])};
        mrb_ary_push(mrb, a, mrb_ary_new_from_values(mrb, 2, pair));
    }
    return a;
}

static mrb_value part_filename(mrb_state *mrb, mrb_value self)
{
    return str_or_nil(mrb, part_of(mrb, self, NULL)->filename);
}

static mrb_value part_disposition(mrb_state *mrb, mrb_value self)
{
    return str_or_nil(mrb, part_of(mrb, self, NULL)->disposition);
}

static int is_attachment(const pm_mime_part_t *p)
{
    return p->disposition && strcmp(p->disposition, "attachment") == 0;
}

static mrb_value part_attachment_p(mrb_state *mrb, mrb_value self)
{
    return mrb_bool_value(is_attachment(part_of(mrb, self, NULL)));
}

static mrb_value part_size(mrb_state *mrb, mrb_value self)
{
    return mrb_int_value(mrb, (mrb_int)part_of(mrb, self, NULL)->size);
}

static mrb_value part_body(mrb_state *mrb, mrb_value self)
{
    const pm_mime_part_t *p = part_of(mrb, self, NULL);
    return p->body ? mrb_str_new(mrb, p->body, (mrb_int)p->size) : mrb_nil_value();
}

static mrb_value part_text(mrb_state *mrb, mrb_value self)
{
    const pm_mime_part_t *p = part_of(mrb, self, NULL);
    return p->text ? mrb_str_new(mrb, p->text, (mrb_int)p->text_len) : mrb_nil_value();
}

#define ZIP_NAMES_MAX 10000 /* names listed from one archive */

/* zip_names: the file names inside a zip body (nil if the body is not a zip). */
static mrb_value part_zip_names(mrb_state *mrb, mrb_value self)
{
    const pm_mime_part_t *p = part_of(mrb, self, NULL);
    size_t n;
    char **names = p->body ? pm_mime_zip_names(p->body, p->size, ZIP_NAMES_MAX, &n) : NULL;
    if (names == NULL)
        return mrb_nil_value();
    mrb_value a = mrb_ary_new_capa(mrb, (mrb_int)n);
    for (size_t i = 0; i < n; i++) {
        mrb_ary_push(mrb, a, mrb_str_new_cstr(mrb, names[i]));
        free(names[i]);
    }
    free(names);
    return a;
}

static mrb_value part_depth(mrb_state *mrb, mrb_value self)
{
    return mrb_int_value(mrb, part_of(mrb, self, NULL)->depth);
}

static mrb_value part_encrypted_p(mrb_state *mrb, mrb_value self)
{
    return mrb_bool_value(part_of(mrb, self, NULL)->encrypted);
}

static mrb_value part_signed_p(mrb_state *mrb, mrb_value self)
{
    return mrb_bool_value(part_of(mrb, self, NULL)->signed_);
}

/* Parts selected from self's subtree (self included when with_self). */
typedef int (*part_filter_t)(const pm_mime_part_t *p);

static int any_part(const pm_mime_part_t *p)
{
    return 1;
}

static int text_part(const pm_mime_part_t *p)
{
    return p->text != NULL && !is_attachment(p);
}

static int attachment_part(const pm_mime_part_t *p)
{
    return p->body && (is_attachment(p) || p->filename);
}

/* In depth-first order a subtree is the run of parts after its root that
 * are deeper than it. */
static mrb_value subtree(mrb_state *mrb, mrb_value self, part_filter_t keep, int children_only)
{
    size_t root;
    const pm_mime_part_t *p = part_of(mrb, self, &root);
    pm_mime_t *m = pm_mrb_call(mrb)->session->mime;
    mrb_value a = mrb_ary_new(mrb);
    int ai = mrb_gc_arena_save(mrb);
    for (size_t i = root; i < m->n_parts && (i == root || m->parts[i].depth > p->depth); i++) {
        if (m->parts[i].removed && i != root)
            continue;
        if (children_only ? m->parts[i].parent == (long)root : keep(&m->parts[i]))
            mrb_ary_push(mrb, a, part_object(mrb, i));
        mrb_gc_arena_restore(mrb, ai);
    }
    return a;
}

static mrb_value part_parts(mrb_state *mrb, mrb_value self)
{
    return subtree(mrb, self, any_part, 1);
}

static mrb_value part_all_parts(mrb_state *mrb, mrb_value self)
{
    return subtree(mrb, self, any_part, 0);
}

static mrb_value part_attachments(mrb_state *mrb, mrb_value self)
{
    return subtree(mrb, self, attachment_part, 0);
}

static mrb_value part_text_parts(mrb_state *mrb, mrb_value self)
{
    return subtree(mrb, self, text_part, 0);
}

static mrb_value session_subject(mrb_state *mrb, mrb_value self)
{
    pm_session_t *s = pm_mrb_call(mrb)->session;
    for (size_t i = 0; s && i < s->n_headers; i++)
        if (strcasecmp(s->headers[i].name, "Subject") == 0) {
            char *d = pm_mime_decode_header(s->headers[i].value);
            mrb_value v = mrb_str_new_cstr(mrb, d);
            free(d);
            return v;
        }
    return mrb_nil_value();
}

static mrb_value mime_decode_header(mrb_state *mrb, mrb_value self)
{
    const char *v;
    mrb_get_args(mrb, "z", &v);
    char *d = pm_mime_decode_header(v);
    mrb_value out = mrb_str_new_cstr(mrb, d);
    free(d);
    return out;
}

typedef struct {
    mrb_state *mrb;
    mrb_value list;
} url_list_t;

static void add_url(void *arg, const char *url, size_t n)
{
    url_list_t *l = arg;
    mrb_ary_push(l->mrb, l->list, mrb_str_new(l->mrb, url, (mrb_int)n));
}

/* Pmilter::MIME.urls(text): the http/https URLs in it, in order, repeats kept. */
static mrb_value mime_urls(mrb_state *mrb, mrb_value self)
{
    const char *text;
    mrb_int len;
    mrb_get_args(mrb, "s", &text, &len);
    url_list_t l = {mrb, mrb_ary_new(mrb)};
    pm_mime_urls(text, (size_t)len, add_url, &l);
    return l.list;
}


/* Rewriting. Refused (Pmilter::MIME::EditError) where the MTA's copy and
 * ours could disagree: headers or body cut by a limit, or a body the handler
 * already replaced. */
static size_t editable_part(mrb_state *mrb, mrb_value self, const char *method)
{
    size_t index;
    part_of(mrb, self, &index);
    pm_call_t *call = pm_mrb_call(mrb);
    const char *why = call->body_replaced ? "Session#replace_body was called in this handler"
                      : call->session->header_limit ? "the headers were cut by a limit (they are not all known)"
                                                     : NULL;
    if (why)
        mrb_raisef(mrb, edit_error(mrb), "Pmilter::MIME::Part#%s: %s", method, why);
    return index;
}

static void edited(mrb_state *mrb, int rc, const char *method, const char *err)
{
    if (rc != 0)
        mrb_raisef(mrb, edit_error(mrb), "Pmilter::MIME::Part#%s: %s", method, err);
    pm_mrb_call(mrb)->mime_edited = 1;
}

static mrb_value part_remove(mrb_state *mrb, mrb_value self)
{
    char err[256];
    size_t index = editable_part(mrb, self, "remove!");
    edited(mrb, pm_mime_remove(pm_mrb_call(mrb)->session->mime, index, err, sizeof err), "remove!", err);
    return mrb_nil_value();
}

/* __replace(content_type, text): replace!(content_type: "text/plain", text:) in the prelude. */
static mrb_value part_replace(mrb_state *mrb, mrb_value self)
{
    char *type, err[256];
    mrb_value text;
    mrb_get_args(mrb, "zS", &type, &text);
    size_t index = editable_part(mrb, self, "replace!");
    pm_mime_t *m = pm_mrb_call(mrb)->session->mime;
    edited(mrb, pm_mime_replace(m, index, type, RSTRING_PTR(text), (size_t)RSTRING_LEN(text), err, sizeof err),
           "replace!", err);
    return self;
}

static mrb_value part_append_text_note(mrb_state *mrb, mrb_value self)
{
    mrb_value text;
    char err[256];
    mrb_get_args(mrb, "S", &text);
    if (editable_part(mrb, self, "append_text_note") != 0)
        mrb_raise(mrb, edit_error(mrb), "Pmilter::MIME::Part#append_text_note: call it on the root part (s.mime)");
    pm_mime_t *m = pm_mrb_call(mrb)->session->mime;
    edited(mrb, pm_mime_append_note(m, RSTRING_PTR(text), (size_t)RSTRING_LEN(text), err, sizeof err),
           "append_text_note", err);
    return self;
}

static mrb_value part_removed_p(mrb_state *mrb, mrb_value self)
{
    return mrb_bool_value(part_of(mrb, self, NULL)->removed);
}

/* The first kept header called name, unfolded; NULL if none. Caller frees. */
static char *root_header(const pm_session_t *s, const char *name)
{
    for (size_t i = 0; i < s->n_headers; i++)
        if (strcasecmp(s->headers[i].name, name) == 0) {
            pm_buf_t v;
            pm_buf_init(&v, (size_t)-1);
            for (const char *c = s->headers[i].value; *c; c++)
                if (*c != '\r' && *c != '\n')
                    pm_buf_append(&v, *c == '\t' ? " " : c, 1);
            char *out = strdup(v.data ? v.data + strspn(v.data, " ") : "");
            pm_buf_reset(&v);
            return out;
        }
    return NULL;
}

/* Makes the message's first header called name say value (NULL: none).
 * Returns 1 if it changed, 0 if not, -1 on failure. */
static int sync_header(pm_call_t *call, const char *name, const char *value, char *err, size_t errlen)
{
    char *old = root_header(call->session, name);
    int same = (old == NULL && value == NULL) || (old && value && strcmp(old, value) == 0);
    int rc = PM_ACTION_OK;
    if (!same)
        rc = old ? pm_action_change_header(call->ctx, name, 1, value, err, errlen)
                 : pm_action_add_header(call->ctx, name, value, strlen(value), err, errlen);
    free(old);
    return rc != PM_ACTION_OK ? -1 : !same;
}

int pm_mrb_mime_apply(pm_call_t *call, char *err, size_t errlen)
{
    pm_session_t *s = call->session;
    pm_mime_t *m = s ? s->mime : NULL;
    if (m == NULL || !m->edited || m->rendered)
        return 0;
    if (call->status != SMFIS_CONTINUE && call->status != SMFIS_ACCEPT) {
        m->rendered = 1; /* the message is not delivered: nothing to send */
        return 0;
    }
    pm_mime_output_t out;
    char why[256];
    int rc = pm_mime_render(m, &out, why, sizeof why);
    int changed = 0, c;
    if (rc == 0 && (c = sync_header(call, "Content-Type", out.content_type, why, sizeof why)) >= 0)
        changed += c;
    else
        rc = -1;
    if (rc == 0 && (c = sync_header(call, "Content-Transfer-Encoding", out.transfer_encoding, why, sizeof why)) >= 0)
        changed += c;
    else
        rc = -1;
    char *version = rc == 0 && changed ? root_header(s, "MIME-Version") : NULL;
    if (rc == 0 && changed && version == NULL &&
        pm_action_add_header(call->ctx, "MIME-Version", "1.0", 3, why, sizeof why) != PM_ACTION_OK)
        rc = -1;
    free(version);
    if (rc == 0 && pm_action_replace_body(call->ctx, out.body, out.body_len, why, sizeof why) != PM_ACTION_OK)
        rc = -1;
    if (rc == 0)
        pm_debug("session %lu: MIME parts edited: body rebuilt (%zu bytes), %d root header(s) changed", s->id,
                 out.body_len, changed);
    else
        snprintf(err, errlen, "sending the rebuilt MIME message failed: %s", why);
    pm_mime_output_clear(&out);
    return rc;
}

static const char part_prelude[] =
    "class Pmilter::MIME::Part\n"
    "  def each_part(&b); return all_parts.each unless b; all_parts.each(&b); self; end\n"
    "  def replace!(content_type: \"text/plain\", text:); __replace(content_type, text); end\n"
    "  def inspect; \"#<Pmilter::MIME::Part #{content_type} depth=#{depth} size=#{size}>\"; end\n"
    "end\n";

void pm_mrb_mime_init(mrb_state *mrb)
{
    struct RClass *pmilter = mrb_module_get(mrb, "Pmilter");
    struct RClass *mime = mrb_define_module_under(mrb, pmilter, "MIME");
    mrb_define_class_under(mrb, mime, "LimitError", mrb->eStandardError_class);
    mrb_define_class_under(mrb, mime, "EditError", mrb->eStandardError_class);
    mrb_define_module_function(mrb, mime, "decode_header", mime_decode_header, MRB_ARGS_REQ(1));
    mrb_define_module_function(mrb, mime, "urls", mime_urls, MRB_ARGS_REQ(1));
    struct RClass *session = mrb_class_get_under(mrb, pmilter, "Session");
    mrb_define_method(mrb, session, "mime", session_mime, MRB_ARGS_NONE());
    mrb_define_method(mrb, session, "subject", session_subject, MRB_ARGS_NONE());
    struct RClass *part = mrb_define_class_under(mrb, mime, "Part", mrb->object_class);
    static const struct {
        const char *name;
        mrb_func_t fn;
    } methods[] = {
        {"content_type", part_content_type}, {"params", part_params},
        {"headers", part_headers},           {"filename", part_filename},
        {"disposition", part_disposition},   {"attachment?", part_attachment_p},
        {"size", part_size},                 {"body", part_body},
        {"text", part_text},                 {"depth", part_depth},
        {"encrypted?", part_encrypted_p},    {"signed?", part_signed_p},
        {"parts", part_parts},               {"all_parts", part_all_parts},
        {"attachments", part_attachments},   {"text_parts", part_text_parts},
        {"remove!", part_remove},            {"removed?", part_removed_p},
        {"zip_names", part_zip_names},
    };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        mrb_define_method(mrb, part, methods[i].name, methods[i].fn, MRB_ARGS_NONE());
    mrb_define_method(mrb, part, "__replace", part_replace, MRB_ARGS_REQ(2));
    mrb_define_method(mrb, part, "append_text_note", part_append_text_note, MRB_ARGS_REQ(1));
    pm_regexp_load_prelude(mrb, part_prelude); /* scanned for last-match reads like handler code */
}
