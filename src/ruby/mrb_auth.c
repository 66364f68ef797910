/* mrb_auth: the handler's view of src/auth at eom: Session#dkim (one result
 * per DKIM-Signature), #dkim_sign (keys from [dkim.keys.NAME]), #dmarc,
 * #authentication_results and #remove_forged_authentication_results
 * (docs/auth.md). Converts values; verifying, signing and DMARC are
 * src/auth's. DNS waits are bounded by [dns] timeout_ms and what
 * handler_timeout leaves the callback. SPF comes from Session#spf when a
 * binding defines it (its object's #result and #domain), else it is "none".
 * Threads: whichever libmilter worker runs the handler, on its own VM. */
#include <mruby.h>
#include <mruby/array.h>
#include <mruby/class.h>
#include <mruby/hash.h>
#include <mruby/string.h>
#include <mruby/variable.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/dkim.h"
#include "auth/dmarc.h"
#include "core/alloc.h"
#include "core/log.h"
#include "milter/actions.h"
#include "ruby/mrb_init.h"


static struct RClass *auth_class(mrb_state *mrb, const char *name)
{
    return mrb_class_get_under(mrb, mrb_module_get(mrb, "Pmilter"), name);
}

/* DNS deadline: [dns] timeout_ms, cut to what handler_timeout leaves. */
static int deadline_ms(pm_call_t *call)
{
    double ms = call->cfg->dns_timeout_ms, left = pm_mrb_wait_left_ms(call);
    return (int)(left < ms ? left : ms);
}

/* The received headers as dkim.c takes them; caller frees the array only. */
static pm_dkim_header_t *headers_of(const pm_session_t *s)
{
    pm_dkim_header_t *h = pm_calloc(s->n_headers ? s->n_headers : 1, sizeof *h);
    for (size_t i = 0; i < s->n_headers; i++)
        h[i] = (pm_dkim_header_t){s->headers[i].name, s->headers[i].value};
    return h;
}

/* The headers as they will leave: the received ones with this call's edits
 * (Headers#add/insert/change/delete, earlier signatures) applied in order,
 * as the MTA applies them. *n set; caller frees the array only. */
static pm_dkim_header_t *outgoing_headers(const pm_call_t *call, size_t *n)
{
    const pm_session_t *s = call->session;
    size_t cap = s->n_headers + call->n_edits + 1, len = s->n_headers;
    pm_dkim_header_t *h = pm_calloc(cap, sizeof *h);
    for (size_t i = 0; i < s->n_headers; i++)
        h[i] = (pm_dkim_header_t){s->headers[i].name, s->headers[i].value};
    for (size_t e = 0; e < call->n_edits; e++) {
        const pm_header_edit_t *ed = &call->edits[e];
        size_t at = len; /* 'a', and 'c' of a header that is not there (the MTA adds it) */
        if (ed->kind == 'i')
            at = ed->index < 0 ? 0 : (size_t)ed->index < len ? (size_t)ed->index : len;
        if (ed->kind == 'c') {
            int seen = 0;
            for (size_t i = 0; i < len; i++)
                if (strcasecmp(h[i].name, ed->name) == 0 && ++seen == ed->index) {
                    if (ed->value) {
                        h[i].value = ed->value;
                    } else {
                        memmove(&h[i], &h[i + 1], (len - i - 1) * sizeof *h);
                        len--;
                    }
                    at = (size_t)-1;
                    break;
                }
            if (at != (size_t)-1 && ed->value == NULL)
                continue; /* deleting what is not there */
        }
        if (at == (size_t)-1)
            continue;
        memmove(&h[at + 1], &h[at], (len - at) * sizeof *h);
        h[at] = (pm_dkim_header_t){ed->name, ed->value};
        len++;
    }
    *n = len;
    return h;
}

static pm_dkim_body_t body_of(const pm_session_t *s)
{
    /* Headers cut by a limit make the message as unverifiable as a cut body. */
    return (pm_dkim_body_t){(const unsigned char *)s->body.data, s->body.len,
                            s->body.truncated || s->header_limit != NULL};
}

/* The message's signatures, verified once per message (Session#dkim, #dmarc
 * and #authentication_results all read them); owned by the session. */
static int verify(mrb_state *mrb, pm_call_t *call, pm_dkim_sig_t **sigs)
{
    pm_session_t *s = call->session;
    if (!s->dkim_verified) {
        pm_dkim_header_t *h = headers_of(s);
        pm_dkim_body_t body = body_of(s);
        char err[256];
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int n = pm_dkim_verify(h, s->n_headers, &body, deadline_ms(call), &s->dkim_sigs, err, sizeof err);
        s->dns_ms += pm_mrb_ms_since(&t0);
        free(h);
        if (n < 0)
            mrb_raisef(mrb, E_RUNTIME_ERROR, "Pmilter::Session#dkim: %s", err);
        s->n_dkim_sigs = n;
        s->dkim_verified = 1;
    }
    *sigs = s->dkim_sigs;
    return s->n_dkim_sigs;
}

static void iv(mrb_state *mrb, mrb_value obj, const char *name, mrb_value v)
{
    mrb_iv_set(mrb, obj, mrb_intern_cstr(mrb, name), v);
}

/* Readers of the result classes: method `x` and `x?` read @x. */
static mrb_value result_reader(mrb_state *mrb, mrb_value self)
{
    mrb_int len;
    const char *name = mrb_sym_name_len(mrb, mrb_get_mid(mrb), &len);
    char ivname[64];
    int predicate = len > 0 && name[len - 1] == '?';
    snprintf(ivname, sizeof ivname, "@%.*s", (int)(predicate ? len - 1 : len), name);
    mrb_value v = mrb_iv_get(mrb, self, mrb_intern_cstr(mrb, ivname));
    return predicate ? mrb_bool_value(mrb_test(v)) : v;
}

static mrb_value signature_object(mrb_state *mrb, const pm_dkim_sig_t *sig)
{
    mrb_value o = mrb_obj_new(mrb, auth_class(mrb, "DKIMResult"), 0, NULL);
    iv(mrb, o, "@domain", mrb_str_new_cstr(mrb, sig->domain));
    iv(mrb, o, "@selector", mrb_str_new_cstr(mrb, sig->selector));
    iv(mrb, o, "@identity", mrb_str_new_cstr(mrb, sig->identity));
    iv(mrb, o, "@result", mrb_str_new_cstr(mrb, sig->result));
    iv(mrb, o, "@reason", mrb_str_new_cstr(mrb, sig->reason));
    iv(mrb, o, "@algorithm", mrb_str_new_cstr(mrb, sig->algorithm));
    iv(mrb, o, "@body_length", sig->body_length >= 0 ? mrb_int_value(mrb, sig->body_length) : mrb_nil_value());
    iv(mrb, o, "@b", mrb_str_new_cstr(mrb, sig->b));
    return o;
}

static pm_call_t *eom_call(mrb_state *mrb, const char *method)
{
    pm_mrb_require_phase(mrb, PM_PHASE_EOM, method);
    pm_call_t *call = pm_mrb_call(mrb);
    if (call->session == NULL)
        mrb_raisef(mrb, E_RUNTIME_ERROR, "%s: no session", method);
    return call;
}

static mrb_value session_dkim(mrb_state *mrb, mrb_value self)
{
    pm_call_t *call = eom_call(mrb, "Pmilter::Session#dkim");
    pm_dkim_sig_t *sigs;
    int n = verify(mrb, call, &sigs);
    mrb_value list = mrb_ary_new_capa(mrb, n);
    for (int i = 0; i < n; i++)
        mrb_ary_push(mrb, list, signature_object(mrb, &sigs[i]));
    return list;
}

static const pm_dkim_key_t *find_key(const pm_config_t *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_dkim_keys; i++)
        if (strcmp(cfg->dkim_keys[i].name, name) == 0)
            return &cfg->dkim_keys[i];
    return NULL;
}

/* "relaxed/relaxed", "simple/simple", "relaxed/simple", "simple/relaxed", or one word for both. */
static void parse_canon(mrb_state *mrb, const char *c, pm_dkim_sign_request_t *req)
{
    char h[16] = "", b[16] = "";
    if (sscanf(c, "%15[a-z]/%15[a-z]", h, b) < 1 || strlen(c) > 31)
        goto bad;
    if (b[0] == '\0')
        strcpy(b, h);
    if ((strcmp(h, "simple") && strcmp(h, "relaxed")) || (strcmp(b, "simple") && strcmp(b, "relaxed")))
        goto bad;
    req->simple_headers = strcmp(h, "simple") == 0;
    req->simple_body = strcmp(b, "simple") == 0;
    return;
bad:
    mrb_raisef(mrb, E_ARGUMENT_ERROR, "Pmilter::Session#dkim_sign: canonicalization: \"%s\" (expected relaxed/relaxed, simple/simple, relaxed/simple or simple/relaxed)", c);
}

static const char *kw_string(mrb_state *mrb, mrb_value v, const char *name)
{
    if (!mrb_string_p(v) || RSTRING_LEN(v) == 0)
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "Pmilter::Session#dkim_sign: %s: expects a non-empty String", name);
    return mrb_string_cstr(mrb, v);
}

/* dkim_sign(domain:, selector:, key:, canonicalization: "relaxed/relaxed"):
 * adds a DKIM-Signature header first in the message; returns its value. */
static mrb_value session_dkim_sign(mrb_state *mrb, mrb_value self)
{
    mrb_sym names[] = {mrb_intern_lit(mrb, "domain"), mrb_intern_lit(mrb, "selector"), mrb_intern_lit(mrb, "key"),
                       mrb_intern_lit(mrb, "canonicalization")};
    mrb_value v[4];
    const mrb_kwargs kw = {4, 3, names, v, NULL};
    mrb_get_args(mrb, ":", &kw);
    pm_call_t *call = eom_call(mrb, "Pmilter::Session#dkim_sign");
    pm_dkim_sign_request_t req = {kw_string(mrb, v[0], "domain"), kw_string(mrb, v[1], "selector"), NULL, 0, 0, 0};
    const char *key_name = kw_string(mrb, v[2], "key");
    if (!mrb_undef_p(v[3]))
        parse_canon(mrb, kw_string(mrb, v[3], "canonicalization"), &req);
    const pm_dkim_key_t *key = find_key(call->cfg, key_name);
    if (key == NULL)
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "Pmilter::Session#dkim_sign: no key \"%s\" in [dkim.keys]", key_name);
    req.key_pem = key->pem;
    req.key_len = key->pem_len;
    pm_session_t *s = call->session;
    size_t n;
    pm_dkim_header_t *h = outgoing_headers(call, &n);
    pm_dkim_body_t body = body_of(s);
    char err[256];
    char *value = NULL;
    if (body.truncated)
        snprintf(err, sizeof err, "the message is longer than max_body_size or max_header_bytes: cannot sign");
    else
        value = pm_dkim_sign(h, n, &body, &req, err, sizeof err);
    free(h);
    if (value == NULL)
        mrb_raisef(mrb, E_RUNTIME_ERROR, "Pmilter::Session#dkim_sign: %s", err);
    mrb_value result = mrb_str_new_cstr(mrb, value);
    int rc = pm_action_insert_header(call->ctx, 0, "DKIM-Signature", value, err, sizeof err);
    if (rc == PM_ACTION_OK)
        pm_call_note_edit(call, 'i', 0, "DKIM-Signature", value);
    free(value);
    pm_mrb_raise_action(mrb, rc, "Pmilter::Session#dkim_sign", err);
    return result;
}

/* The SPF result from Session#spf if some binding defines it, else none. */
static void spf_of(mrb_state *mrb, mrb_value self, char *result, size_t rlen, char *domain, size_t dlen)
{
    snprintf(result, rlen, "none");
    domain[0] = '\0';
    if (!mrb_respond_to(mrb, self, mrb_intern_lit(mrb, "spf")))
        return;
    mrb_value spf = mrb_funcall(mrb, self, "spf", 0);
    mrb_value r = mrb_funcall(mrb, spf, "result", 0), d = mrb_funcall(mrb, spf, "domain", 0);
    if (mrb_string_p(r))
        snprintf(result, rlen, "%s", mrb_string_cstr(mrb, r));
    if (mrb_string_p(d))
        snprintf(domain, dlen, "%s", mrb_string_cstr(mrb, d));
}

static int has_spf(mrb_state *mrb, mrb_value self)
{
    return mrb_respond_to(mrb, self, mrb_intern_lit(mrb, "spf"));
}

static const char *first_header(const pm_session_t *s, const char *name)
{
    for (size_t i = 0; i < s->n_headers; i++)
        if (strcasecmp(s->headers[i].name, name) == 0)
            return s->headers[i].value;
    return NULL;
}

/* DMARC from the message's DKIM results and SPF. */
static void evaluate_dmarc(mrb_state *mrb, mrb_value self, pm_call_t *call, const pm_dkim_sig_t *sigs, int n,
                           const char *spf_result, const char *spf_domain, pm_dmarc_result_t *out)
{
    pm_session_t *s = call->session;
    pm_dmarc_input_t in = {first_header(s, "From"), s->client_addr, has_spf(mrb, self) ? spf_result : NULL,
                           spf_domain, 0, sigs, (size_t)n, deadline_ms(call)};
    if (spf_domain[0] == '\0' && s->helo) { /* an empty reverse-path: SPF checked the HELO name */
        in.spf_domain = s->helo;
        in.spf_helo = 1;
    }
    /* Two From headers: RFC 7489 6.6.1 lets the receiver reject; we report permerror. */
    int froms = 0;
    for (size_t i = 0; i < s->n_headers; i++)
        froms += strcasecmp(s->headers[i].name, "From") == 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pm_dmarc_evaluate(&in, out);
    s->dns_ms += pm_mrb_ms_since(&t0);
    if (froms > 1) {
        out->result = "permerror";
        snprintf(out->reason, sizeof out->reason, "%d From headers", froms);
    }
}

static mrb_value dmarc_object(mrb_state *mrb, const pm_dmarc_result_t *r)
{
    mrb_value o = mrb_obj_new(mrb, auth_class(mrb, "DMARCResult"), 0, NULL);
    iv(mrb, o, "@result", mrb_str_new_cstr(mrb, r->result));
    iv(mrb, o, "@policy", mrb_str_new_cstr(mrb, r->policy));
    iv(mrb, o, "@domain", mrb_str_new_cstr(mrb, r->org_domain));
    iv(mrb, o, "@from_domain", mrb_str_new_cstr(mrb, r->from_domain));
    iv(mrb, o, "@record_domain", mrb_str_new_cstr(mrb, r->record_domain));
    iv(mrb, o, "@aligned_spf", mrb_bool_value(r->aligned_spf));
    iv(mrb, o, "@aligned_dkim", mrb_bool_value(r->aligned_dkim));
    iv(mrb, o, "@reason", mrb_str_new_cstr(mrb, r->reason));
    return o;
}

static mrb_value session_dmarc(mrb_state *mrb, mrb_value self)
{
    pm_call_t *call = eom_call(mrb, "Pmilter::Session#dmarc");
    char spf_result[32], spf_domain[256];
    spf_of(mrb, self, spf_result, sizeof spf_result, spf_domain, sizeof spf_domain);
    pm_dkim_sig_t *sigs;
    int n = verify(mrb, call, &sigs);
    pm_dmarc_result_t r;
    evaluate_dmarc(mrb, self, call, sigs, n, spf_result, spf_domain, &r);
    return dmarc_object(mrb, &r);
}

/* Appends " name=value" to an A-R value, quoted unless value is an RFC 2045
 * token or local-part@domain (RFC 8601's pvalue): '@' is let through. */
static void ar_prop(pm_buf_t *b, const char *name, const char *value)
{
    int bare = value[0] != '\0';
    for (const char *p = value; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 127 || strchr("()<>,;:\\\"/[]?=", *p))
            bare = 0;
    char tmp[600];
    if (bare) {
        snprintf(tmp, sizeof tmp, " %s=%s", name, value);
    } else {
        char q[520];
        size_t o = 0;
        for (const char *p = value; *p && o < sizeof q - 3; p++) {
            if (*p == '"' || *p == '\\')
                q[o++] = '\\';
            if ((unsigned char)*p >= ' ')
                q[o++] = *p;
        }
        q[o] = '\0';
        snprintf(tmp, sizeof tmp, " %s=\"%s\"", name, q);
    }
    pm_buf_append(b, tmp, strlen(tmp));
}

static void ar_str(pm_buf_t *b, const char *s)
{
    pm_buf_append(b, s, strlen(s));
}

/* authentication_results(authserv_id = macro "j"): an RFC 8601 header value
 * with spf (when Session#spf exists), dkim (one per signature, or none) and dmarc. */
static mrb_value session_authentication_results(mrb_state *mrb, mrb_value self)
{
    mrb_value id = mrb_undef_value();
    mrb_get_args(mrb, "|S", &id);
    pm_call_t *call = eom_call(mrb, "Pmilter::Session#authentication_results");
    if (mrb_undef_p(id))
        id = mrb_funcall(mrb, self, "macro", 1, mrb_str_new_lit(mrb, "j"));
    const char *authserv = mrb_string_cstr(mrb, id);
    if (authserv[0] == '\0' || strpbrk(authserv, " \t\r\n;()\"\\"))
        mrb_raisef(mrb, E_ARGUMENT_ERROR,
                   "Pmilter::Session#authentication_results: authserv-id \"%s\" must be a non-empty token (the MTA's "
                   "macro j, or give one)",
                   authserv);
    char spf_result[32], spf_domain[256];
    spf_of(mrb, self, spf_result, sizeof spf_result, spf_domain, sizeof spf_domain);
    pm_dkim_sig_t *sigs;
    int n = verify(mrb, call, &sigs);
    pm_dmarc_result_t dm;
    evaluate_dmarc(mrb, self, call, sigs, n, spf_result, spf_domain, &dm);

    pm_buf_t b;
    pm_buf_init(&b, 1 << 20);
    ar_str(&b, authserv);
    if (has_spf(mrb, self)) {
        ar_str(&b, ";\r\n\tspf=");
        ar_str(&b, spf_result);
        if (spf_domain[0])
            ar_prop(&b, "smtp.mailfrom", spf_domain);
        else if (call->session->helo)
            ar_prop(&b, "smtp.helo", call->session->helo);
    }
    for (int i = 0; i < n; i++) {
        ar_str(&b, ";\r\n\tdkim=");
        ar_str(&b, sigs[i].result);
        if (sigs[i].reason[0]) {
            char comment[200];
            snprintf(comment, sizeof comment, " (%s)", sigs[i].reason);
            for (char *p = comment + 2; p[1]; p++)
                if (*p == '(' || *p == ')' || *p == '\\')
                    *p = ' ';
            ar_str(&b, comment);
        }
        if (sigs[i].domain[0])
            ar_prop(&b, "header.d", sigs[i].domain);
        if (sigs[i].selector[0])
            ar_prop(&b, "header.s", sigs[i].selector);
        if (sigs[i].b[0])
            ar_prop(&b, "header.b", sigs[i].b);
    }
    if (n == 0)
        ar_str(&b, ";\r\n\tdkim=none");
    ar_str(&b, ";\r\n\tdmarc=");
    ar_str(&b, dm.result);
    if (dm.result[0] != 'n' || dm.from_domain[0]) {
        if (strcmp(dm.result, "pass") && strcmp(dm.result, "none")) {
            char comment[64];
            snprintf(comment, sizeof comment, " (p=%s)", dm.policy);
            ar_str(&b, comment);
        }
        if (dm.from_domain[0])
            ar_prop(&b, "header.from", dm.from_domain);
    }
    mrb_value v = mrb_str_new(mrb, b.data, (mrb_int)b.len);
    pm_buf_reset(&b);
    return v;
}

/* The authserv-id of an A-R header value: its first token, before ';' (a version may follow). */
static int claims(const char *value, const char *authserv)
{
    while (*value == ' ' || *value == '\t' || *value == '\r' || *value == '\n')
        value++;
    size_t n = strcspn(value, " \t\r\n;(");
    return n == strlen(authserv) && strncasecmp(value, authserv, n) == 0;
}

/* remove_forged_authentication_results(authserv_id = macro "j"): deletes the
 * received Authentication-Results headers that claim our authserv-id (only
 * we may write those); returns how many. */
static mrb_value session_remove_forged(mrb_state *mrb, mrb_value self)
{
    mrb_value id = mrb_undef_value();
    mrb_get_args(mrb, "|S", &id);
    pm_call_t *call = eom_call(mrb, "Pmilter::Session#remove_forged_authentication_results");
    if (mrb_undef_p(id))
        id = mrb_funcall(mrb, self, "macro", 1, mrb_str_new_lit(mrb, "j"));
    const char *authserv = mrb_string_cstr(mrb, id);
    if (authserv[0] == '\0')
        mrb_raise(mrb, E_ARGUMENT_ERROR,
                  "Pmilter::Session#remove_forged_authentication_results: empty authserv-id (no macro j)");
    pm_session_t *s = call->session;
    int index = 0, removed = 0;
    int *forged = pm_calloc(s->n_headers ? s->n_headers : 1, sizeof *forged);
    for (size_t i = 0; i < s->n_headers; i++)
        if (strcasecmp(s->headers[i].name, "Authentication-Results") == 0) {
            index++;
            if (claims(s->headers[i].value, authserv))
                forged[removed++] = index;
        }
    char err[256];
    for (int i = removed - 1; i >= 0; i--) { /* from the last, so earlier indexes stay right */
        int rc = pm_action_change_header(call->ctx, "Authentication-Results", forged[i], NULL, err, sizeof err);
        if (rc != PM_ACTION_OK)
            free(forged);
        else
            pm_call_note_edit(call, 'c', forged[i], "Authentication-Results", NULL);
        pm_mrb_raise_action(mrb, rc, "Pmilter::Session#remove_forged_authentication_results", err);
    }
    free(forged);
    return mrb_int_value(mrb, removed);
}

void pm_mrb_auth_init(mrb_state *mrb)
{
    struct RClass *pmilter = mrb_module_get(mrb, "Pmilter");
    struct RClass *session = mrb_class_get_under(mrb, pmilter, "Session");
    mrb_define_method(mrb, session, "dkim", session_dkim, MRB_ARGS_NONE());
    mrb_define_method(mrb, session, "dkim_sign", session_dkim_sign, MRB_ARGS_KEY(4, 0));
    mrb_define_method(mrb, session, "dmarc", session_dmarc, MRB_ARGS_NONE());
    mrb_define_method(mrb, session, "authentication_results", session_authentication_results, MRB_ARGS_OPT(1));
    mrb_define_method(mrb, session, "remove_forged_authentication_results", session_remove_forged, MRB_ARGS_OPT(1));
    static const char *const dkim_readers[] = {"domain", "selector", "identity", "result", "reason",
                                               "algorithm", "body_length", "body_length?", "b"};
    struct RClass *dkim = mrb_define_class_under(mrb, pmilter, "DKIMResult", mrb->object_class);
    for (size_t i = 0; i < sizeof dkim_readers / sizeof *dkim_readers; i++)
        mrb_define_method(mrb, dkim, dkim_readers[i], result_reader, MRB_ARGS_NONE());
    static const char *const dmarc_readers[] = {"result", "policy", "domain", "from_domain", "record_domain",
                                                "aligned_spf?", "aligned_dkim?", "reason"};
    struct RClass *dmarc = mrb_define_class_under(mrb, pmilter, "DMARCResult", mrb->object_class);
    for (size_t i = 0; i < sizeof dmarc_readers / sizeof *dmarc_readers; i++)
        mrb_define_method(mrb, dmarc, dmarc_readers[i], result_reader, MRB_ARGS_NONE());
}
