/* mrb_dns: Pmilter::DNS, the handler's view of src/dns. Converts Ruby values
 * to queries and answers back; the resolving, parallelism and deadlines are
 * dns.c's. Every call waits at most its timeout (timeout: seconds, default
 * [dns] timeout_ms), never past what is left of handler_timeout for the
 * running callback. A failed answer raises Pmilter::DNS::Timeout or
 * Pmilter::DNS::Error (Timeout is an Error), and is logged at info with the
 * name, type and elapsed ms; a DNSBL zone that fails is left out of the result.
 * Threads: whichever libmilter worker runs the handler, on its own VM. */
#include <mruby.h>
#include <mruby/array.h>
#include <mruby/class.h>
#include <mruby/data.h>
#include <mruby/hash.h>
#include <mruby/string.h>
#include <mruby/variable.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "dns/dns.h"
#include "ruby/mrb_init.h"

#define NAME_MAX_LEN 256   /* a DNS name is at most 253 characters as text */
#define MAX_QUESTIONS 256  /* per call: zones of a dnsbl, questions of an all */
#define MAX_PTR_NAMES 10   /* PTR names fcrdns checks */

enum { T_A = 1, T_PTR = 12, T_MX = 15, T_TXT = 16, T_AAAA = 28 };

/* The queries of one call, owned by a Ruby object so that a raise frees them. */
typedef struct {
    size_t n;
    pm_dns_query_t *q;
    char (*names)[NAME_MAX_LEN];
} questions_t;

static void questions_free(mrb_state *mrb, void *p)
{
    questions_t *qs = p;
    if (qs == NULL)
        return;
    pm_dns_query_clear(qs->q, qs->n);
    free(qs->q);
    free(qs->names);
    free(qs);
}

static const struct mrb_data_type questions_type = {"Pmilter::DNS questions", questions_free};

static questions_t *questions_new(mrb_state *mrb, size_t n)
{
    if (n > MAX_QUESTIONS)
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "Pmilter::DNS: at most %d questions in one call", MAX_QUESTIONS);
    struct RData *holder = mrb_data_object_alloc(mrb, mrb->object_class, NULL, &questions_type);
    questions_t *qs = pm_calloc(1, sizeof *qs);
    qs->n = n;
    qs->q = pm_calloc(n ? n : 1, sizeof *qs->q);
    qs->names = pm_calloc(n ? n : 1, sizeof *qs->names);
    holder->data = qs; /* on the arena until the method returns */
    return qs;
}

/* Question i asks name (copied) of type rrtype. */
static void ask(mrb_state *mrb, questions_t *qs, size_t i, const char *name, int rrtype)
{
    if (strlen(name) >= NAME_MAX_LEN - 1 || name[0] == '\0')
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "Pmilter::DNS: bad name \"%s\"", name);
    strcpy(qs->names[i], name);
    qs->q[i].name = qs->names[i];
    qs->q[i].rrtype = rrtype;
}

static void ask_reverse(mrb_state *mrb, questions_t *qs, size_t i, const char *ip, const char *zone)
{
    if (pm_dns_reverse_name(ip, zone, qs->names[i], NAME_MAX_LEN) != 0)
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "Pmilter::DNS: \"%s\" is not an IPv4 or IPv6 address%s", ip,
                   zone ? " (or the zone name is too long)" : "");
    qs->q[i].name = qs->names[i];
    qs->q[i].rrtype = zone ? T_A : T_PTR;
}

/* The deadline of this call in ms: timeout: (seconds) or [dns] timeout_ms,
 * cut to what handler_timeout leaves the running callback. */
static int deadline_ms(mrb_state *mrb, mrb_value timeout)
{
    pm_call_t *call = pm_mrb_call(mrb);
    double ms = call->cfg->dns_timeout_ms;
    if (!mrb_undef_p(timeout) && !mrb_nil_p(timeout)) {
        if (!mrb_integer_p(timeout) && !mrb_float_p(timeout))
            mrb_raise(mrb, E_TYPE_ERROR, "Pmilter::DNS: timeout: expects seconds (Integer or Float)");
        ms = mrb_as_float(mrb, timeout) * 1000.0;
        if (!(ms > 0))
            mrb_raise(mrb, E_ARGUMENT_ERROR, "Pmilter::DNS: timeout: must be positive");
    }
    double left = pm_mrb_wait_left_ms(call);
    if (left < ms)
        ms = left;
    return ms > 600000 ? 600000 : (int)ms;
}

static const char *type_label(int rrtype, char *buf, size_t len)
{
    const char *name = pm_dns_type_name(rrtype);
    if (strcmp(name, "TYPE") == 0) {
        snprintf(buf, len, "TYPE%d", rrtype);
        return buf;
    }
    return name;
}

/* Asks every question at once; logs each failure; adds the wait to the message's DNS time. */
static void resolve(mrb_state *mrb, questions_t *qs, int ms)
{
    pm_call_t *call = pm_mrb_call(mrb);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pm_dns_resolve(qs->q, qs->n, ms);
    if (call->session)
        call->session->dns_ms += pm_mrb_ms_since(&t0);
    for (size_t i = 0; i < qs->n; i++) {
        const pm_dns_query_t *q = &qs->q[i];
        char tb[16];
        if (q->status == PM_DNS_TIMEOUT)
            pm_info("dns: %s %s: timeout after %.0f ms", q->name, type_label(q->rrtype, tb, sizeof tb), q->elapsed_ms);
        else if (q->status == PM_DNS_ERROR)
            pm_info("dns: %s %s: %s after %.0f ms", q->name, type_label(q->rrtype, tb, sizeof tb), q->why,
                    q->elapsed_ms);
    }
}

static struct RClass *dns_class(mrb_state *mrb, const char *name)
{
    return mrb_class_get_under(mrb, mrb_module_get_under(mrb, mrb_module_get(mrb, "Pmilter"), "DNS"), name);
}

static void raise_failure(mrb_state *mrb, const pm_dns_query_t *q)
{
    char tb[16];
    if (q->status == PM_DNS_TIMEOUT)
        mrb_raisef(mrb, dns_class(mrb, "Timeout"), "%s %s: no answer within %d ms", q->name,
                   type_label(q->rrtype, tb, sizeof tb), (int)q->elapsed_ms);
    mrb_raisef(mrb, dns_class(mrb, "Error"), "%s %s: %s", q->name, type_label(q->rrtype, tb, sizeof tb), q->why);
}

static int failed(const pm_dns_query_t *q)
{
    return q->status == PM_DNS_TIMEOUT || q->status == PM_DNS_ERROR;
}

/* Sorts [pref, host] pairs by preference, then host. */
static int mx_order(const void *x, const void *y)
{
    const struct mx { int pref; const char *host; } *a = x, *b = y;
    return a->pref != b->pref ? a->pref - b->pref : strcmp(a->host, b->host);
}

/* The records of an answered query as Ruby values (see docs/api.md). */
static mrb_value records(mrb_state *mrb, const pm_dns_query_t *q)
{
    if (failed(q))
        raise_failure(mrb, q);
    int n = pm_dns_count(q);
    mrb_value list = mrb_ary_new_capa(mrb, n);
    struct mx { int pref; const char *host; } *mx = q->rrtype == T_MX ? pm_calloc(n ? n : 1, sizeof *mx) : NULL;
    int n_mx = 0;
    for (int i = 0; i < n; i++) {
        size_t len;
        const unsigned char *d = pm_dns_rdata(q, i, &len);
        mrb_value buf = mrb_str_new_capa(mrb, (mrb_int)len + 64); /* text is at most rdata + 64 bytes */
        char *text = RSTRING_PTR(buf);
        int pref = 0;
        if (pm_dns_rdata_text(q->rrtype, d, len, text, len + 64, &pref) != 0) {
            if (q->rrtype == T_A || q->rrtype == T_AAAA || q->rrtype == T_MX || q->rrtype == T_TXT ||
                q->rrtype == T_PTR)
                continue; /* malformed rdata of a type we decode: skipped, never a crash */
            mrb_ary_push(mrb, list, mrb_str_new(mrb, (const char *)d, (mrb_int)len)); /* raw rdata */
        } else if (mx) {
            mx[n_mx].pref = pref;
            mx[n_mx++].host = pm_strdup(text);
        } else {
            RSTR_SET_LEN(mrb_str_ptr(buf), strlen(text));
            mrb_ary_push(mrb, list, buf);
        }
    }
    if (mx) {
        qsort(mx, (size_t)n_mx, sizeof *mx, mx_order);
        for (int i = 0; i < n_mx; i++) {
            mrb_value pair[2] = {mrb_fixnum_value(mx[i].pref), mrb_str_new_cstr(mrb, mx[i].host)};
            free((char *)mx[i].host);
            mrb_ary_push(mrb, list, mrb_ary_new_from_values(mrb, 2, pair));
        }
        free(mx);
    }
    return list;
}

/* name [, timeout: s] */
static const char *name_arg(mrb_state *mrb, mrb_value *timeout)
{
    const char *name;
    mrb_sym kw_names[] = {mrb_intern_lit(mrb, "timeout")};
    const mrb_kwargs kw = {1, 0, kw_names, timeout, NULL};
    mrb_get_args(mrb, "z:", &name, &kw);
    return name;
}

static mrb_value ask_one(mrb_state *mrb, const char *name, int rrtype, mrb_value timeout)
{
    int ms = deadline_ms(mrb, timeout);
    questions_t *qs = questions_new(mrb, 1);
    if (rrtype == T_PTR)
        ask_reverse(mrb, qs, 0, name, NULL);
    else
        ask(mrb, qs, 0, name, rrtype);
    resolve(mrb, qs, ms);
    return records(mrb, &qs->q[0]);
}

/* The record type a one-type method asks: a, aaaa, mx, txt, ptr. */
static int type_of_method(mrb_state *mrb)
{
    static const struct { const char *method; int rrtype; } map[] = {
        {"a", T_A}, {"aaaa", T_AAAA}, {"mx", T_MX}, {"txt", T_TXT}, {"ptr", T_PTR},
    };
    const char *name = mrb_sym_name(mrb, mrb_get_mid(mrb));
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(name, map[i].method) == 0)
            return map[i].rrtype;
    mrb_raisef(mrb, E_NOTIMP_ERROR, "Pmilter::DNS: no record type for %s", name);
    return -1; /* not reached */
}

/* Pmilter::DNS.a(name), .aaaa, .mx, .txt, .ptr(ip) */
static mrb_value dns_one_type(mrb_state *mrb, mrb_value self)
{
    mrb_value t;
    const char *name = name_arg(mrb, &t);
    return ask_one(mrb, name, type_of_method(mrb), t);
}

/* "MX", :mx or 15 */
static int type_arg(mrb_state *mrb, mrb_value type)
{
    int t = -1;
    if (mrb_integer_p(type))
        t = mrb_integer(type) > 0 && mrb_integer(type) < 65536 ? (int)mrb_integer(type) : -1;
    else if (mrb_symbol_p(type))
        t = pm_dns_type_from_name(mrb_sym_name(mrb, mrb_symbol(type)));
    else if (mrb_string_p(type))
        t = pm_dns_type_from_name(mrb_string_value_cstr(mrb, &type));
    if (t < 0)
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "Pmilter::DNS.query: unknown record type %v", type);
    return t;
}

static mrb_value dns_query(mrb_state *mrb, mrb_value self)
{
    const char *name;
    mrb_value type, t;
    mrb_sym kw_names[] = {mrb_intern_lit(mrb, "timeout")};
    const mrb_kwargs kw = {1, 0, kw_names, &t, NULL};
    mrb_get_args(mrb, "zo:", &name, &type, &kw);
    int rrtype = type_arg(mrb, type);
    int ms = deadline_ms(mrb, t);
    questions_t *qs = questions_new(mrb, 1);
    ask(mrb, qs, 0, name, rrtype);
    resolve(mrb, qs, ms);
    return records(mrb, &qs->q[0]);
}

/* 127.255.255.0/24: what big lists answer a public or unregistered resolver
 * instead of a verdict ("query refused"). Never a listing. */
static int is_refusal(const char *answer)
{
    return strncmp(answer, "127.255.255.", 12) == 0;
}

/* The zone => first answer Hash of a dnsbl or rhsbl whose questions are asked. */
static mrb_value listings(mrb_state *mrb, questions_t *qs, mrb_value zones, const char *subject)
{
    mrb_value found = mrb_hash_new(mrb);
    for (size_t i = 0; i < qs->n; i++) {
        const pm_dns_query_t *q = &qs->q[i];
        char answer[64];
        size_t len;
        int pref;
        if (q->status != PM_DNS_OK || pm_dns_count(q) == 0)
            continue; /* not listed; a failure was logged by resolve */
        const unsigned char *d = pm_dns_rdata(q, 0, &len);
        if (pm_dns_rdata_text(T_A, d, len, answer, sizeof answer, &pref) != 0)
            continue;
        mrb_value zone = mrb_ary_ref(mrb, zones, (mrb_int)i);
        if (is_refusal(answer)) {
            pm_warn("dns: %s answered %s for %s: the list refuses this resolver (not a listing)",
                    RSTRING_CSTR(mrb, zone), answer, subject);
            continue;
        }
        mrb_hash_set(mrb, found, zone, mrb_str_new_cstr(mrb, answer));
    }
    return found;
}

/* subject, zones [, timeout: s]: zones checked to be Strings */
static mrb_value list_args(mrb_state *mrb, const char **subject, mrb_value *timeout)
{
    mrb_value zones;
    mrb_sym kw_names[] = {mrb_intern_lit(mrb, "timeout")};
    const mrb_kwargs kw = {1, 0, kw_names, timeout, NULL};
    mrb_get_args(mrb, "zA:", subject, &zones, &kw);
    for (mrb_int i = 0; i < RARRAY_LEN(zones); i++)
        if (!mrb_string_p(mrb_ary_ref(mrb, zones, i)))
            mrb_raise(mrb, E_TYPE_ERROR, "Pmilter::DNS: zones must be Strings");
    return zones;
}

/* Pmilter::DNS.dnsbl(ip, zones) asks ip reversed under each zone,
 * .rhsbl(domain, zones) asks domain.zone; all zones at once. */
static mrb_value dns_blocklist(mrb_state *mrb, mrb_value self)
{
    const char *subject;
    mrb_value t;
    mrb_value zones = list_args(mrb, &subject, &t);
    int by_address = strcmp(mrb_sym_name(mrb, mrb_get_mid(mrb)), "dnsbl") == 0;
    int ms = deadline_ms(mrb, t);
    questions_t *qs = questions_new(mrb, (size_t)RARRAY_LEN(zones));
    for (size_t i = 0; i < qs->n; i++) {
        mrb_value zone = mrb_ary_ref(mrb, zones, (mrb_int)i);
        const char *zone_name = mrb_string_value_cstr(mrb, &zone);
        if (by_address) {
            ask_reverse(mrb, qs, i, subject, zone_name);
        } else {
            char name[NAME_MAX_LEN * 2];
            snprintf(name, sizeof name, "%s.%s", subject, zone_name);
            ask(mrb, qs, i, name, T_A);
        }
    }
    resolve(mrb, qs, ms);
    return listings(mrb, qs, zones, subject);
}

/* Forward-confirmed reverse DNS: a PTR name of ip whose A/AAAA records
 * include ip, or nil. Both steps share one deadline. */
static mrb_value dns_fcrdns(mrb_state *mrb, mrb_value self)
{
    mrb_value t;
    const char *ip = name_arg(mrb, &t);
    int ms = deadline_ms(mrb, t);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    questions_t *ptr = questions_new(mrb, 1);
    ask_reverse(mrb, ptr, 0, ip, NULL);
    resolve(mrb, ptr, ms);
    mrb_value names = records(mrb, &ptr->q[0]);
    size_t n = (size_t)RARRAY_LEN(names) < MAX_PTR_NAMES ? (size_t)RARRAY_LEN(names) : MAX_PTR_NAMES;
    if (n == 0)
        return mrb_nil_value();
    questions_t *fwd = questions_new(mrb, n);
    for (size_t i = 0; i < n; i++) {
        mrb_value name = mrb_ary_ref(mrb, names, (mrb_int)i);
        ask(mrb, fwd, i, mrb_string_value_cstr(mrb, &name), strchr(ip, ':') ? T_AAAA : T_A);
    }
    double left = ms - pm_mrb_ms_since(&t0);
    resolve(mrb, fwd, left > 0 ? (int)left : 0);
    const pm_dns_query_t *failure = NULL;
    for (size_t i = 0; i < n; i++) {
        const pm_dns_query_t *q = &fwd->q[i];
        if (failed(q) && failure == NULL)
            failure = q;
        for (int r = 0; q->status == PM_DNS_OK && r < pm_dns_count(q); r++) {
            char addr[64];
            size_t len;
            int pref;
            const unsigned char *d = pm_dns_rdata(q, r, &len);
            if (pm_dns_rdata_text(q->rrtype, d, len, addr, sizeof addr, &pref) == 0 && pm_dns_same_address(addr, ip))
                return mrb_ary_ref(mrb, names, (mrb_int)i);
        }
    }
    if (failure) /* not confirmed, and a forward lookup could not say */
        raise_failure(mrb, failure);
    return mrb_nil_value();
}

/* Pmilter::DNS.all { |q| q.a(...); q.mx(...) }: the questions the block asks,
 * all at once; their answers in order. */
static mrb_value dns_all(mrb_state *mrb, mrb_value self)
{
    mrb_value blk, t;
    mrb_sym kw_names[] = {mrb_intern_lit(mrb, "timeout")};
    const mrb_kwargs kw = {1, 0, kw_names, &t, NULL};
    mrb_get_args(mrb, ":&!", &kw, &blk);
    int ms = deadline_ms(mrb, t);
    struct RClass *batch_class = dns_class(mrb, "Batch");
    mrb_value batch = mrb_obj_new(mrb, batch_class, 0, NULL);
    mrb_value asked = mrb_ary_new(mrb);
    mrb_iv_set(mrb, batch, mrb_intern_lit(mrb, "@questions"), asked);
    mrb_yield(mrb, blk, batch);
    questions_t *qs = questions_new(mrb, (size_t)RARRAY_LEN(asked));
    for (size_t i = 0; i < qs->n; i++) {
        mrb_value pair = mrb_ary_ref(mrb, asked, (mrb_int)i);
        mrb_value name = mrb_ary_ref(mrb, pair, 1);
        mrb_int type = mrb_integer(mrb_ary_ref(mrb, pair, 0));
        if (type == T_PTR)
            ask_reverse(mrb, qs, i, mrb_string_value_cstr(mrb, &name), NULL);
        else
            ask(mrb, qs, i, mrb_string_value_cstr(mrb, &name), (int)type);
    }
    resolve(mrb, qs, ms);
    mrb_value results = mrb_ary_new_capa(mrb, (mrb_int)qs->n);
    for (size_t i = 0; i < qs->n; i++)
        mrb_ary_push(mrb, results, records(mrb, &qs->q[i]));
    return results;
}

/* Notes a question on a Batch for Pmilter::DNS.all. */
static mrb_value batch_note(mrb_state *mrb, mrb_value self, mrb_value name, int rrtype)
{
    mrb_value asked = mrb_iv_get(mrb, self, mrb_intern_lit(mrb, "@questions"));
    if (!mrb_array_p(asked))
        mrb_raise(mrb, E_RUNTIME_ERROR, "Pmilter::DNS::Batch is only used inside Pmilter::DNS.all");
    mrb_value pair[2] = {mrb_fixnum_value(rrtype), mrb_str_dup(mrb, name)};
    mrb_ary_push(mrb, asked, mrb_ary_new_from_values(mrb, 2, pair));
    return self;
}

/* Batch#a(name), #aaaa, #mx, #txt, #ptr(ip) */
static mrb_value batch_one_type(mrb_state *mrb, mrb_value self)
{
    mrb_value name;
    mrb_get_args(mrb, "S", &name);
    return batch_note(mrb, self, name, type_of_method(mrb));
}

/* Batch#query(name, type) */
static mrb_value batch_query(mrb_state *mrb, mrb_value self)
{
    mrb_value name, type;
    mrb_get_args(mrb, "So", &name, &type);
    return batch_note(mrb, self, name, type_arg(mrb, type));
}

void pm_mrb_dns_init(mrb_state *mrb)
{
    struct RClass *pmilter = mrb_module_get(mrb, "Pmilter");
    struct RClass *dns = mrb_define_module_under(mrb, pmilter, "DNS");
    struct RClass *error = mrb_define_class_under(mrb, dns, "Error", mrb->eStandardError_class);
    mrb_define_class_under(mrb, dns, "Timeout", error);
    static const char *const one_type[] = {"a", "aaaa", "mx", "txt", "ptr"};
    struct RClass *batch = mrb_define_class_under(mrb, dns, "Batch", mrb->object_class);
    for (size_t i = 0; i < sizeof one_type / sizeof one_type[0]; i++) {
        mrb_define_module_function(mrb, dns, one_type[i], dns_one_type, MRB_ARGS_ARG(1, 1));
        mrb_define_method(mrb, batch, one_type[i], batch_one_type, MRB_ARGS_REQ(1));
    }
    mrb_define_module_function(mrb, dns, "query", dns_query, MRB_ARGS_ARG(2, 1));
    mrb_define_module_function(mrb, dns, "dnsbl", dns_blocklist, MRB_ARGS_ARG(2, 1));
    mrb_define_module_function(mrb, dns, "rhsbl", dns_blocklist, MRB_ARGS_ARG(2, 1));
    mrb_define_module_function(mrb, dns, "fcrdns", dns_fcrdns, MRB_ARGS_ARG(1, 1));
    mrb_define_module_function(mrb, dns, "all", dns_all, MRB_ARGS_OPT(1) | MRB_ARGS_BLOCK());
    mrb_define_method(mrb, batch, "query", batch_query, MRB_ARGS_REQ(2));
}
