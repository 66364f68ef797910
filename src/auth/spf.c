/* spf: RFC 7208 check_host() (see spf.h). A record is parsed whole before
 * any of it is evaluated, so a syntax error anywhere is a permerror even
 * after a matching term. One evaluation counts DNS-querying terms and void
 * lookups across all its includes and redirects (RFC 7208 4.6.4); questions
 * that may be asked together (an mx's hosts, a ptr's names) go to the
 * resolver in one batch.
 * Threads: any; all state is on the caller's stack or in its result. */
#include "auth/spf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"

#define MAX_DNS_MECHANISMS 10 /* include a mx ptr exists redirect, RFC 7208 4.6.4 */
#define MAX_VOID_LOOKUPS 2
#define MAX_MX_NAMES 10
#define MAX_PTR_NAMES 10
#define EXPAND_MAX 4096 /* bytes of one macro expansion; longer is a permerror */
#define DEFAULT_EXPLANATION "SPF fail - not authorized"

enum { T_A = 1, T_PTR = 12, T_MX = 15, T_TXT = 16, T_AAAA = 28 };

typedef enum { M_ALL, M_INCLUDE, M_A, M_MX, M_PTR, M_IP4, M_IP6, M_EXISTS } mech_t;

/* One directive of a parsed record; pointers into the record's text. */
typedef struct term {
    mech_t mech;
    char qual;               /* + - ~ ? */
    const char *text;        /* the term as written */
    size_t text_len;
    const char *spec;        /* domain-spec (a macro-string), NULL if absent */
    size_t spec_len;
    int cidr4, cidr6;        /* prefix lengths; 32 and 128 when absent */
    unsigned char addr[16];  /* ip4 (first 4 bytes) and ip6 networks */
} term_t;

typedef struct record {
    term_t *terms;
    size_t n;
    const char *redirect, *exp; /* modifier values, NULL if absent */
    size_t redirect_len, exp_len;
} record_t;

typedef enum { NO_MATCH, MATCH, ERROR } match_t;

/* One evaluation: the request's facts and the limits' counters. */
typedef struct eval {
    const pm_spf_request_t *req;
    pm_spf_result_t *res;
    unsigned char ip[16]; /* IPv4 in the first 4 bytes */
    int v6;
    char ip_text[INET6_ADDRSTRLEN]; /* %{c} */
    char ip_dotted[72];             /* %{i}: dotted quad or 32 dotted nibbles */
    char *local, *sender_domain, *helo;
    char p_name[PM_SPF_NAME_LEN]; /* %{p}, once computed */
    int have_p;
    pm_spf_code_t error; /* the code of the last ERROR */
} eval_t;

typedef enum { X_DOMAIN, X_EXP, X_SYNTAX } expand_mode_t;

static pm_spf_code_t check_host(eval_t *e, const char *domain, int level);

const char *pm_spf_code_name(pm_spf_code_t code)
{
    static const char *const names[] = {"none", "neutral", "pass", "fail", "softfail", "temperror", "permerror"};
    return code <= PM_SPF_PERMERROR ? names[code] : "permerror";
}

/* Records why and returns code (the first reason is kept: it is the cause). */
__attribute__((format(printf, 3, 4))) static pm_spf_code_t failed(eval_t *e, pm_spf_code_t code, const char *fmt,
                                                                     ...)
{
    if (e->res->problem == NULL) {
        char why[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, sizeof why, fmt, ap);
        va_end(ap);
        e->res->problem = pm_strdup(why);
    }
    e->error = code;
    return code;
}

/* ---- DNS ---- */

/* A name we may ask: labels of 1..63 characters, at most 253 in all. */
static int valid_name(const char *name)
{
    size_t len = strlen(name), label = 0;
    if (len == 0 || len > 253)
        return 0;
    for (const char *c = name;; c++) {
        if (*c == '.' || *c == '\0') {
            if (label == 0 || label > 63)
                return 0;
            if (*c == '\0')
                return 1;
            label = 0;
        } else {
            label++;
        }
    }
}

static void question(pm_spf_question_t *q, const char *name, int rrtype)
{
    memset(q, 0, sizeof *q);
    snprintf(q->name, sizeof q->name, "%s", name);
    q->rrtype = rrtype;
}

/* Asks the questions with a valid name at once; the others read as NOTFOUND. */
static void ask(eval_t *e, pm_spf_question_t *q, size_t n)
{
    pm_spf_question_t *batch[MAX_MX_NAMES > MAX_PTR_NAMES ? MAX_MX_NAMES : MAX_PTR_NAMES];
    pm_spf_question_t asked[sizeof batch / sizeof batch[0]];
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        q[i].status = PM_DNS_NOTFOUND;
        q[i].answers = NULL;
        q[i].n_answers = 0;
        if (valid_name(q[i].name) && m < sizeof batch / sizeof batch[0]) {
            batch[m] = &q[i];
            asked[m++] = q[i];
        }
    }
    if (m == 0)
        return;
    e->req->resolve(e->req->resolve_ctx, asked, m);
    e->res->queries += (int)m;
    for (size_t i = 0; i < m; i++)
        *batch[i] = asked[i];
}

static void forget(pm_spf_question_t *q, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (int a = 0; a < q[i].n_answers; a++)
            free(q[i].answers[a]);
        q[i].answers = pm_free(q[i].answers);
        q[i].n_answers = 0;
    }
}

static int dns_failed(const pm_spf_question_t *q)
{
    return q->status == PM_DNS_ERROR || q->status == PM_DNS_TIMEOUT;
}

static pm_spf_code_t temperror(eval_t *e, const pm_spf_question_t *q)
{
    return failed(e, PM_SPF_TEMPERROR, "DNS %s for %s %s", q->status == PM_DNS_TIMEOUT ? "timeout" : "error", q->name,
                  pm_dns_type_name(q->rrtype));
}

/* An answer with no records counts against the void-lookup limit; 0, or -1 past it. */
static int count_void(eval_t *e, const pm_spf_question_t *q)
{
    if (q->status == PM_DNS_OK || dns_failed(q) || !valid_name(q->name))
        return 0; /* answered, failed (not void: no answer), or never asked */
    if (++e->res->void_lookups > MAX_VOID_LOOKUPS) {
        failed(e, PM_SPF_PERMERROR, "more than %d void lookups (last: %s)", MAX_VOID_LOOKUPS, q->name);
        return -1;
    }
    return 0;
}

/* Each DNS-querying term counts against the limit of 10; 0, or -1 past it. */
static int count_dns_mechanism(eval_t *e)
{
    if (++e->res->dns_mechanisms > MAX_DNS_MECHANISMS) {
        failed(e, PM_SPF_PERMERROR, "more than %d DNS-querying mechanisms", MAX_DNS_MECHANISMS);
        return -1;
    }
    return 0;
}

/* ---- addresses ---- */

static int in_network(const eval_t *e, const unsigned char *net, int prefix)
{
    size_t bytes = (size_t)prefix / 8;
    if (memcmp(e->ip, net, bytes) != 0)
        return 0;
    int bits = prefix % 8;
    if (bits == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - bits));
    return (e->ip[bytes] & mask) == (net[bytes] & mask);
}

/* Is one of the address answers within prefix bits of the client? */
static int any_address_matches(const eval_t *e, const pm_spf_question_t *q, int prefix)
{
    for (int i = 0; i < q->n_answers; i++) {
        unsigned char a[16];
        if (inet_pton(e->v6 ? AF_INET6 : AF_INET, q->answers[i], a) == 1 && in_network(e, a, prefix))
            return 1;
    }
    return 0;
}

/* ---- macros (RFC 7208 section 7) ---- */

static int is_delimiter(char c)
{
    return c != '\0' && strchr(".-+,/_=", c) != NULL;
}

/* The validated names of the client (ptr mechanism, %{p}): up to 10 PTR
 * names whose A/AAAA records include the client. Returns the count, or -1
 * past the void-lookup limit. DNS errors only drop names (RFC 7208 5.5). */
static int validated_names(eval_t *e, char names[][PM_SPF_NAME_LEN])
{
    char rev[PM_SPF_NAME_LEN];
    if (pm_dns_reverse_name(e->ip_text, NULL, rev, sizeof rev) != 0)
        return 0;
    pm_spf_question_t ptr;
    question(&ptr, rev, T_PTR);
    ask(e, &ptr, 1);
    if (count_void(e, &ptr) < 0) {
        forget(&ptr, 1);
        return -1;
    }
    pm_spf_question_t fwd[MAX_PTR_NAMES];
    size_t n = 0;
    for (int i = 0; i < ptr.n_answers && n < MAX_PTR_NAMES; i++)
        question(&fwd[n++], ptr.answers[i], e->v6 ? T_AAAA : T_A);
    forget(&ptr, 1);
    ask(e, fwd, n);
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        if (!dns_failed(&fwd[i]) && count_void(e, &fwd[i]) < 0) {
            found = -1;
            break;
        }
        if (any_address_matches(e, &fwd[i], e->v6 ? 128 : 32))
            memcpy(names[found++], fwd[i].name, PM_SPF_NAME_LEN);
    }
    forget(fwd, n);
    return found;
}

static int name_in_domain(const char *name, const char *domain)
{
    size_t n = strlen(name), d = strlen(domain);
    return n == d ? strcasecmp(name, domain) == 0 : n > d && name[n - d - 1] == '.' && strcasecmp(name + n - d, domain) == 0;
}

/* %{p}: a validated name, preferring domain or one of its subdomains; "unknown". */
static const char *p_macro(eval_t *e, const char *domain)
{
    if (e->have_p)
        return e->p_name;
    char names[MAX_PTR_NAMES][PM_SPF_NAME_LEN];
    int n = validated_names(e, names);
    if (n < 0)
        return NULL;
    int best = -1;
    for (int i = 0; i < n && best < 0; i++)
        if (strcasecmp(names[i], domain) == 0)
            best = i;
    for (int i = 0; i < n && best < 0; i++)
        if (name_in_domain(names[i], domain))
            best = i;
    snprintf(e->p_name, sizeof e->p_name, "%s", n == 0 ? "unknown" : names[best < 0 ? 0 : best]);
    e->have_p = 1;
    return e->p_name;
}

/* The value of macro letter c (lower case), or NULL on an error already recorded. */
static const char *letter_value(eval_t *e, char c, const char *domain, char *buf, size_t buflen)
{
    switch (c) {
    case 's':
        snprintf(buf, buflen, "%s@%s", e->local, e->sender_domain);
        return buf;
    case 'l': return e->local;
    case 'o': return e->sender_domain;
    case 'd': return domain;
    case 'i': return e->ip_dotted;
    case 'v': return e->v6 ? "ip6" : "in-addr";
    case 'h': return e->helo;
    case 'c': return e->ip_text;
    case 'r': return e->req->receiver ? e->req->receiver : "unknown";
    case 't':
        snprintf(buf, buflen, "%lld", (long long)time(NULL));
        return buf;
    case 'p': return p_macro(e, domain);
    }
    return NULL;
}

typedef struct out {
    char *buf; /* NULL: syntax check only */
    size_t len, cap;
    int overflow;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (o->buf == NULL)
        return;
    if (o->len + n >= o->cap) {
        o->overflow = 1;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

/* Does c split a macro's value? Given delimiters, or "." by default. */
static int splits(const char *delims, size_t n_delims, char c)
{
    return n_delims ? memchr(delims, c, n_delims) != NULL : c == '.';
}

/* Appends value split on delims, reversed if asked, its rightmost `keep`
 * parts (0: all), joined with dots; URL-escaped when the letter was upper case. */
static void put_transformed(out_t *o, const char *value, const char *delims, size_t n_delims, int reverse, long keep,
                            int escape)
{
    size_t max = 1;
    for (const char *c = value; *c; c++)
        max += splits(delims, n_delims, *c);
    const char **parts = pm_calloc(max, sizeof *parts);
    size_t *lens = pm_calloc(max, sizeof *lens), n = 0;
    const char *start = value;
    for (const char *c = value;; c++) {
        int end = *c == '\0';
        if (end || splits(delims, n_delims, *c)) {
            parts[n] = start;
            lens[n++] = (size_t)(c - start);
            start = c + 1;
        }
        if (end)
            break;
    }
    if (reverse)
        for (size_t i = 0; i < n / 2; i++) {
            const char *p = parts[i];
            size_t l = lens[i];
            parts[i] = parts[n - 1 - i], lens[i] = lens[n - 1 - i];
            parts[n - 1 - i] = p, lens[n - 1 - i] = l;
        }
    size_t first = keep > 0 && (size_t)keep < n ? n - (size_t)keep : 0;
    for (size_t i = first; i < n; i++) {
        if (i > first)
            put(o, ".", 1);
        if (!escape) {
            put(o, parts[i], lens[i]);
            continue;
        }
        for (size_t k = 0; k < lens[i]; k++) {
            unsigned char ch = (unsigned char)parts[i][k];
            if (isalnum(ch) || strchr("-._~", ch)) {
                put(o, (const char *)&ch, 1);
            } else {
                char hex[4];
                snprintf(hex, sizeof hex, "%%%02X", ch);
                put(o, hex, 3);
            }
        }
    }
    free(parts);
    free(lens);
}

/* Expands the macro-string s[0..len) for domain into out (X_SYNTAX: only
 * checks it). c, r and t are allowed only in explanations. 0, or -1 with the
 * permerror (or the DNS failure of %{p}) recorded. */
static int expand(eval_t *e, const char *s, size_t len, const char *domain, expand_mode_t mode, out_t *o)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (mode != X_EXP && ((unsigned char)c < 0x21 || (unsigned char)c > 0x7e))
            return failed(e, PM_SPF_PERMERROR, "invalid character in \"%.*s\"", (int)len, s), -1;
        if (c != '%') {
            put(o, &c, 1);
            continue;
        }
        char next = i + 1 < len ? s[i + 1] : '\0';
        i++;
        if (next == '%' || next == '_' || next == '-') {
            put(o, next == '%' ? "%" : next == '_' ? " " : "%20", next == '-' ? 3 : 1);
            continue;
        }
        if (next != '{' || i + 2 >= len)
            return failed(e, PM_SPF_PERMERROR, "bad macro in \"%.*s\"", (int)len, s), -1;
        char letter = s[++i];
        char lower = (char)tolower((unsigned char)letter);
        int allowed = strchr("slodiphv", lower) != NULL || (mode == X_EXP && strchr("crt", lower) != NULL);
        if (!isalpha((unsigned char)letter) || !allowed)
            return failed(e, PM_SPF_PERMERROR, "unknown macro letter '%c' in \"%.*s\"", letter, (int)len, s), -1;
        long keep = 0;
        size_t digits = 0;
        while (++i < len && isdigit((unsigned char)s[i])) {
            if (keep < 1000)
                keep = keep * 10 + (s[i] - '0');
            digits++;
        }
        if (digits && keep == 0)
            return failed(e, PM_SPF_PERMERROR, "macro transformer 0 in \"%.*s\"", (int)len, s), -1;
        int reverse = i < len && (s[i] == 'r' || s[i] == 'R');
        if (reverse)
            i++;
        const char *delims = s + i;
        while (i < len && is_delimiter(s[i]))
            i++;
        size_t n_delims = (size_t)(s + i - delims);
        if (i >= len || s[i] != '}')
            return failed(e, PM_SPF_PERMERROR, "bad macro in \"%.*s\"", (int)len, s), -1;
        if (o->buf == NULL)
            continue;
        char buf[600];
        const char *value = letter_value(e, lower, domain, buf, sizeof buf);
        if (value == NULL)
            return -1;
        put_transformed(o, value, delims, n_delims, reverse, keep, isupper((unsigned char)letter));
    }
    if (o->overflow)
        return failed(e, PM_SPF_PERMERROR, "macro expansion of \"%.*s\" longer than %d bytes", (int)len, s,
                      EXPAND_MAX),
               -1;
    return 0;
}

/* The domain-spec s expanded into name: without a trailing dot, left labels
 * dropped until it fits 253 characters (RFC 7208 7.3). 0 or -1. */
static int expand_domain(eval_t *e, const char *s, size_t len, const char *domain, char *name)
{
    char buf[EXPAND_MAX];
    out_t o = {buf, 0, sizeof buf, 0};
    buf[0] = '\0';
    if (expand(e, s, len, domain, X_DOMAIN, &o) != 0)
        return -1;
    if (o.len > 0 && buf[o.len - 1] == '.')
        buf[--o.len] = '\0';
    const char *start = buf;
    while (strlen(start) > 253 && strchr(start, '.'))
        start = strchr(start, '.') + 1;
    snprintf(name, PM_SPF_NAME_LEN, "%s", start);
    return 0;
}

/* ---- parsing (RFC 7208 section 12, strictly) ---- */

/* toplabel = *alphanum ALPHA *alphanum / 1*alphanum "-" *(alphanum / "-") alphanum */
static int is_toplabel(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    int alpha = 0, hyphen = 0;
    for (size_t i = 0; i < n; i++) {
        if (isalpha((unsigned char)s[i]))
            alpha = 1;
        else if (s[i] == '-')
            hyphen = 1;
        else if (!isdigit((unsigned char)s[i]))
            return 0;
    }
    if (hyphen)
        return s[0] != '-' && s[n - 1] != '-';
    return alpha;
}

/* domain-spec = macro-string domain-end; domain-end = "." toplabel ["."] / macro-expand */
static int valid_domain_end(const char *s, size_t n)
{
    if (n >= 2 && s[n - 2] == '%' && strchr("%_-", s[n - 1])) {
        size_t pct = 0; /* "%%%-": count the run of % before the last char */
        while (pct < n - 1 && s[n - 2 - pct] == '%')
            pct++;
        if (pct % 2 == 1)
            return 1;
    }
    if (n >= 1 && s[n - 1] == '}') {
        const char *open = NULL;
        for (size_t i = n - 1; i > 0 && open == NULL; i--)
            if (s[i - 1] == '%' && s[i] == '{')
                open = s + i - 1;
        if (open)
            return 1;
    }
    if (n > 0 && s[n - 1] == '.')
        n--;
    size_t dot = n;
    while (dot > 0 && s[dot - 1] != '.')
        dot--;
    return dot > 0 && is_toplabel(s + dot, n - dot);
}

static int check_domain_spec(eval_t *e, const char *s, size_t n, const term_t *t)
{
    out_t check = {0};
    if (n == 0)
        return failed(e, PM_SPF_PERMERROR, "empty domain in \"%.*s\"", (int)t->text_len, t->text), -1;
    if (expand(e, s, n, "", X_SYNTAX, &check) != 0)
        return -1;
    if (!valid_domain_end(s, n))
        return failed(e, PM_SPF_PERMERROR, "\"%.*s\" does not end in a top-level label", (int)n, s), -1;
    return 0;
}

/* Strips "/N" from the end of [s, *n): N in 0..max without leading zeros; -1 if absent. */
static int strip_cidr(const char *s, size_t *n)
{
    size_t end = *n, d = end;
    while (d > 0 && isdigit((unsigned char)s[d - 1]))
        d--;
    if (d == end || d == 0 || s[d - 1] != '/' || end - d > 3 || (s[d] == '0' && end - d > 1))
        return -1;
    *n = d - 1;
    return atoi(s + d); /* at most 3 digits */
}

static const struct {
    const char *name;
    mech_t mech;
} mech_names[] = {
    {"all", M_ALL}, {"include", M_INCLUDE}, {"a", M_A},     {"mx", M_MX},
    {"ptr", M_PTR}, {"ip4", M_IP4},         {"ip6", M_IP6}, {"exists", M_EXISTS},
};

static int parse_mechanism(eval_t *e, term_t *t)
{
    const char *s = t->text;
    size_t n = t->text_len;
    t->qual = '+';
    if (strchr("+-~?", s[0])) {
        t->qual = s[0];
        s++, n--;
    }
    /* CIDR suffixes first: a domain-spec may itself contain "/". */
    int cidr6 = -1, cidr4 = -1;
    size_t before = n;
    cidr6 = strip_cidr(s, &n);
    if (cidr6 >= 0 && !(n > 0 && s[n - 1] == '/')) { /* a single "/N" */
        cidr4 = cidr6;
        cidr6 = -1;
    } else if (cidr6 >= 0) {
        n--; /* "//N": now look for "/M" before it */
        cidr4 = strip_cidr(s, &n);
    } else {
        n = before;
    }
    size_t name_len = 0;
    while (name_len < n && s[name_len] != ':' && s[name_len] != '/')
        name_len++;
    int found = 0;
    for (size_t i = 0; i < sizeof mech_names / sizeof mech_names[0] && !found; i++)
        if (strlen(mech_names[i].name) == name_len && strncasecmp(s, mech_names[i].name, name_len) == 0) {
            t->mech = mech_names[i].mech;
            found = 1;
        }
    if (!found || (name_len < n && s[name_len] != ':'))
        return failed(e, PM_SPF_PERMERROR, "unknown mechanism \"%.*s\"", (int)t->text_len, t->text), -1;
    t->spec = name_len < n ? s + name_len + 1 : NULL;
    t->spec_len = name_len < n ? n - name_len - 1 : 0;
    int cidr_ok = t->mech == M_A || t->mech == M_MX || ((t->mech == M_IP4 || t->mech == M_IP6) && cidr6 < 0);
    if ((cidr4 >= 0 || cidr6 >= 0) && !cidr_ok)
        return failed(e, PM_SPF_PERMERROR, "CIDR length not allowed in \"%.*s\"", (int)t->text_len, t->text), -1;
    int max4 = t->mech == M_IP6 ? 128 : 32;
    if (cidr4 > max4 || cidr6 > 128)
        return failed(e, PM_SPF_PERMERROR, "CIDR length too long in \"%.*s\"", (int)t->text_len, t->text), -1;
    t->cidr4 = cidr4 >= 0 ? cidr4 : max4;
    t->cidr6 = cidr6 >= 0 ? cidr6 : 128;
    switch (t->mech) {
    case M_ALL:
        if (t->spec)
            return failed(e, PM_SPF_PERMERROR, "\"all\" takes no argument: \"%.*s\"", (int)t->text_len, t->text), -1;
        return 0;
    case M_IP4:
    case M_IP6: {
        char addr[64];
        if (t->spec == NULL || t->spec_len >= sizeof addr)
            return failed(e, PM_SPF_PERMERROR, "bad address in \"%.*s\"", (int)t->text_len, t->text), -1;
        memcpy(addr, t->spec, t->spec_len);
        addr[t->spec_len] = '\0';
        if (inet_pton(t->mech == M_IP4 ? AF_INET : AF_INET6, addr, t->addr) != 1)
            return failed(e, PM_SPF_PERMERROR, "bad address in \"%.*s\"", (int)t->text_len, t->text), -1;
        return 0;
    }
    case M_INCLUDE:
    case M_EXISTS:
        if (t->spec == NULL)
            return failed(e, PM_SPF_PERMERROR, "\"%.*s\" needs a domain", (int)t->text_len, t->text), -1;
        /* fall through */
    default:
        return t->spec ? check_domain_spec(e, t->spec, t->spec_len, t) : 0;
    }
}

/* name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) before "=": the length of
 * the modifier's name, or 0 if the term is a mechanism. */
static size_t modifier_name_len(const char *s, size_t n)
{
    if (n == 0 || !isalpha((unsigned char)s[0]))
        return 0;
    size_t i = 1;
    while (i < n && (isalnum((unsigned char)s[i]) || strchr("-_.", s[i])))
        i++;
    return i < n && s[i] == '=' ? i : 0;
}

static int parse_modifier(eval_t *e, record_t *r, const char *s, size_t n, size_t name_len)
{
    const char *value = s + name_len + 1;
    size_t len = n - name_len - 1;
    term_t t = {.text = s, .text_len = n};
    int redirect = name_len == 8 && strncasecmp(s, "redirect", 8) == 0;
    int exp = name_len == 3 && strncasecmp(s, "exp", 3) == 0;
    if (redirect || exp) {
        if (redirect ? r->redirect != NULL : r->exp != NULL)
            return failed(e, PM_SPF_PERMERROR, "%.*s= appears twice", (int)name_len, s), -1;
        if (check_domain_spec(e, value, len, &t) != 0)
            return -1;
        if (redirect)
            r->redirect = value, r->redirect_len = len;
        else
            r->exp = value, r->exp_len = len;
        return 0;
    }
    out_t check = {0}; /* unknown modifiers are ignored, but must be well formed */
    return expand(e, value, len, "", X_SYNTAX, &check);
}

/* Parses text (after "v=spf1") into r. 0, or -1 with the permerror recorded. */
static int parse_record(eval_t *e, const char *text, record_t *r)
{
    memset(r, 0, sizeof *r);
    size_t cap = 1;
    for (const char *c = text; *c; c++)
        cap += *c == ' ';
    r->terms = pm_calloc(cap, sizeof *r->terms);
    for (const char *s = text; *s;) {
        if (*s == ' ') {
            s++;
            continue;
        }
        size_t n = strcspn(s, " ");
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
                return failed(e, PM_SPF_PERMERROR, "invalid character in term \"%.*s\"", (int)n, s), -1;
        size_t mod = modifier_name_len(s, n);
        if (mod) {
            if (parse_modifier(e, r, s, n, mod) != 0)
                return -1;
        } else {
            term_t *t = &r->terms[r->n++];
            t->text = s;
            t->text_len = n;
            if (parse_mechanism(e, t) != 0)
                return -1;
        }
        s += n;
    }
    return 0;
}

/* ---- evaluation ---- */

static int is_spf_record(const char *txt)
{
    return strncasecmp(txt, "v=spf1", 6) == 0 && (txt[6] == '\0' || txt[6] == ' ');
}

/* The domain's one SPF record (malloc'd) in *record, or NULL with the code:
 * NONE (no record), TEMPERROR, PERMERROR (two records). */
static pm_spf_code_t fetch_record(eval_t *e, const char *domain, char **record)
{
    *record = NULL;
    pm_spf_question_t q;
    question(&q, domain, T_TXT);
    ask(e, &q, 1);
    if (dns_failed(&q))
        return temperror(e, &q);
    if (count_void(e, &q) < 0)
        return PM_SPF_PERMERROR;
    int found = 0;
    for (int i = 0; i < q.n_answers; i++)
        if (is_spf_record(q.answers[i]) && found++ == 0)
            *record = pm_strdup(q.answers[i]);
    forget(&q, 1);
    if (found > 1) {
        *record = pm_free(*record);
        return failed(e, PM_SPF_PERMERROR, "%s has %d SPF records", domain, found);
    }
    return PM_SPF_NONE;
}

/* a, mx, exists: the addresses of names, one batch; a match within prefix
 * bits (exists: any answer). */
static match_t match_addresses(eval_t *e, pm_spf_question_t *q, size_t n, int prefix, int any_answer)
{
    ask(e, q, n);
    match_t m = NO_MATCH;
    for (size_t i = 0; i < n && m != ERROR; i++) {
        if (dns_failed(&q[i])) {
            temperror(e, &q[i]);
            m = ERROR;
        } else if (count_void(e, &q[i]) < 0) {
            m = ERROR;
        }
    }
    for (size_t i = 0; i < n && m == NO_MATCH; i++)
        if (any_answer ? q[i].n_answers > 0 : any_address_matches(e, &q[i], prefix))
            m = MATCH;
    forget(q, n);
    return m;
}

static match_t match_mx(eval_t *e, const char *target, int prefix)
{
    pm_spf_question_t mx;
    question(&mx, target, T_MX);
    ask(e, &mx, 1);
    if (dns_failed(&mx))
        return temperror(e, &mx), ERROR;
    if (count_void(e, &mx) < 0)
        return ERROR;
    if (mx.n_answers > MAX_MX_NAMES) {
        forget(&mx, 1);
        return failed(e, PM_SPF_PERMERROR, "%s has more than %d MX records", target, MAX_MX_NAMES), ERROR;
    }
    pm_spf_question_t hosts[MAX_MX_NAMES];
    size_t n = (size_t)mx.n_answers;
    for (size_t i = 0; i < n; i++)
        question(&hosts[i], mx.answers[i], e->v6 ? T_AAAA : T_A);
    forget(&mx, 1);
    return match_addresses(e, hosts, n, prefix, 0);
}

static match_t match_ptr(eval_t *e, const char *target)
{
    char names[MAX_PTR_NAMES][PM_SPF_NAME_LEN];
    int n = validated_names(e, names);
    if (n < 0)
        return ERROR;
    for (int i = 0; i < n; i++)
        if (name_in_domain(names[i], target))
            return MATCH;
    return NO_MATCH;
}

static match_t match_include(eval_t *e, const char *target, int level)
{
    switch (check_host(e, target, level + 1)) {
    case PM_SPF_PASS:
        return MATCH;
    case PM_SPF_FAIL:
    case PM_SPF_SOFTFAIL:
    case PM_SPF_NEUTRAL:
        return NO_MATCH;
    case PM_SPF_TEMPERROR:
        e->error = PM_SPF_TEMPERROR;
        return ERROR;
    case PM_SPF_NONE:
        failed(e, PM_SPF_PERMERROR, "included %s has no SPF record", target);
        return ERROR;
    default:
        e->error = PM_SPF_PERMERROR;
        return ERROR;
    }
}

static match_t match(eval_t *e, const term_t *t, const char *domain, int level)
{
    if (t->mech == M_ALL)
        return MATCH;
    if (t->mech == M_IP4 || t->mech == M_IP6)
        return (t->mech == M_IP6) == (e->v6 != 0) && in_network(e, t->addr, t->cidr4) ? MATCH : NO_MATCH;
    if (count_dns_mechanism(e) < 0)
        return ERROR;
    char target[PM_SPF_NAME_LEN];
    if (t->spec == NULL)
        snprintf(target, sizeof target, "%s", domain);
    else if (expand_domain(e, t->spec, t->spec_len, domain, target) != 0)
        return ERROR;
    pm_spf_question_t q;
    switch (t->mech) {
    case M_INCLUDE:
        return match_include(e, target, level);
    case M_A:
        question(&q, target, e->v6 ? T_AAAA : T_A);
        return match_addresses(e, &q, 1, e->v6 ? t->cidr6 : t->cidr4, 0);
    case M_MX:
        return match_mx(e, target, e->v6 ? t->cidr6 : t->cidr4);
    case M_PTR:
        return match_ptr(e, target);
    case M_EXISTS:
        question(&q, target, T_A); /* A even for an IPv6 client (RFC 7208 5.7) */
        return match_addresses(e, &q, 1, 0, 1);
    default:
        return NO_MATCH;
    }
}

static int is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s > 0x7e || ((unsigned char)*s < 0x20))
            return 0;
    return 1;
}

/* A fail's explanation: the exp= TXT record expanded, or the default when
 * there is none or it is unusable (RFC 7208 6.2: errors are ignored). */
static char *explain(eval_t *e, const record_t *r, const char *domain)
{
    const char *fallback = e->req->default_explanation ? e->req->default_explanation : DEFAULT_EXPLANATION;
    if (r->exp == NULL)
        return pm_strdup(fallback);
    char *problem = e->res->problem; /* failures here are not the check's */
    e->res->problem = NULL;
    char *text = NULL;
    char name[PM_SPF_NAME_LEN];
    pm_spf_question_t q = {0};
    if (expand_domain(e, r->exp, r->exp_len, domain, name) == 0) {
        question(&q, name, T_TXT);
        ask(e, &q, 1);
        if (q.status == PM_DNS_OK && q.n_answers == 1 && is_ascii(q.answers[0])) {
            char buf[EXPAND_MAX];
            out_t o = {buf, 0, sizeof buf, 0};
            buf[0] = '\0';
            if (expand(e, q.answers[0], strlen(q.answers[0]), domain, X_EXP, &o) == 0)
                text = pm_strdup(buf);
        }
        forget(&q, 1);
    }
    free(e->res->problem);
    e->res->problem = problem;
    return text ? text : pm_strdup(fallback);
}

static pm_spf_code_t qualifier_code(char q)
{
    return q == '-' ? PM_SPF_FAIL : q == '~' ? PM_SPF_SOFTFAIL : q == '?' ? PM_SPF_NEUTRAL : PM_SPF_PASS;
}

/* Evaluates a parsed record of domain. Level 0 is the identity's record
 * (and what it redirects to): only there a result names its mechanism and
 * a fail gets an explanation. */
static pm_spf_code_t evaluate(eval_t *e, const record_t *r, const char *domain, int level)
{
    for (size_t i = 0; i < r->n; i++) {
        const term_t *t = &r->terms[i];
        match_t m = match(e, t, domain, level);
        if (m == ERROR)
            return e->error;
        if (m == NO_MATCH)
            continue;
        pm_spf_code_t code = qualifier_code(t->qual);
        if (level == 0) {
            free(e->res->mechanism);
            e->res->mechanism = pm_strndup(t->text, t->text_len);
            if (code == PM_SPF_FAIL)
                e->res->explanation = explain(e, r, domain);
        }
        return code;
    }
    if (r->redirect == NULL)
        return PM_SPF_NEUTRAL;
    char target[PM_SPF_NAME_LEN];
    if (count_dns_mechanism(e) < 0 || expand_domain(e, r->redirect, r->redirect_len, domain, target) != 0)
        return e->error;
    pm_spf_code_t code = check_host(e, target, level);
    if (code == PM_SPF_NONE)
        return failed(e, PM_SPF_PERMERROR, "redirect target %s has no SPF record", target);
    return code;
}

/* A domain check_host can look up: valid labels and more than one of them. */
static int checkable_domain(const char *domain)
{
    return valid_name(domain) && strchr(domain, '.') != NULL;
}

static pm_spf_code_t check_host(eval_t *e, const char *domain, int level)
{
    if (!checkable_domain(domain))
        return PM_SPF_NONE;
    char *text;
    pm_spf_code_t code = fetch_record(e, domain, &text);
    if (text == NULL)
        return code;
    record_t r;
    if (parse_record(e, text + 6, &r) == 0)
        code = evaluate(e, &r, domain, level);
    else
        code = PM_SPF_PERMERROR;
    free(r.terms);
    free(text);
    return code;
}

/* ---- the request ---- */

static int set_client(eval_t *e, const char *ip)
{
    if (ip && inet_pton(AF_INET, ip, e->ip) == 1) {
        e->v6 = 0;
    } else if (ip && inet_pton(AF_INET6, ip, e->ip) == 1) {
        e->v6 = 1;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(e->ip, mapped, 12) == 0) { /* ::ffff:192.0.2.1 is an IPv4 client */
            memmove(e->ip, e->ip + 12, 4);
            e->v6 = 0;
        }
    } else {
        return -1;
    }
    inet_ntop(e->v6 ? AF_INET6 : AF_INET, e->ip, e->ip_text, sizeof e->ip_text);
    if (!e->v6) {
        snprintf(e->ip_dotted, sizeof e->ip_dotted, "%s", e->ip_text);
        return 0;
    }
    static const char hex[] = "0123456789ABCDEF";
    for (int i = 0; i < 16; i++)
        snprintf(e->ip_dotted + i * 4, sizeof e->ip_dotted - (size_t)i * 4, "%c.%c%s", hex[e->ip[i] >> 4],
                 hex[e->ip[i] & 15], i < 15 ? "." : "");
    return 0;
}

/* sender "local@domain" (or "" for the HELO identity, "domain" or "@domain"
 * for a postmaster) into local part and domain. */
static void set_sender(eval_t *e, const char *sender, const char *helo)
{
    e->helo = pm_strdup(helo ? helo : "");
    if (sender == NULL || sender[0] == '\0')
        sender = e->helo;
    const char *at = strrchr(sender, '@');
    e->local = at && at > sender ? pm_strndup(sender, (size_t)(at - sender)) : pm_strdup("postmaster");
    e->sender_domain = pm_strdup(at ? at + 1 : sender);
    size_t n = strlen(e->sender_domain);
    if (n > 0 && e->sender_domain[n - 1] == '.')
        e->sender_domain[n - 1] = '\0';
}

void pm_spf_check(const pm_spf_request_t *req, pm_spf_result_t *res)
{
    memset(res, 0, sizeof *res);
    eval_t e = {.req = req, .res = res};
    set_sender(&e, req->sender, req->helo);
    res->domain = pm_strdup(e.sender_domain);
    if (req->ip == NULL)
        res->code = PM_SPF_NONE; /* no client address (a unix socket): nothing to check */
    else if (set_client(&e, req->ip) != 0)
        res->code = failed(&e, PM_SPF_PERMERROR, "client address \"%s\" is not an IP address", req->ip);
    else
        res->code = check_host(&e, e.sender_domain, 0);
    if (res->code != PM_SPF_FAIL)
        res->explanation = pm_free(res->explanation);
    if (res->code != PM_SPF_PERMERROR && res->code != PM_SPF_TEMPERROR)
        res->problem = pm_free(res->problem);
    free(e.local);
    free(e.sender_domain);
    free(e.helo);
}

void pm_spf_result_clear(pm_spf_result_t *res)
{
    res->domain = pm_free(res->domain);
    res->mechanism = pm_free(res->mechanism);
    res->explanation = pm_free(res->explanation);
    res->problem = pm_free(res->problem);
}

pm_spf_result_t *pm_spf_result_free(pm_spf_result_t *res)
{
    if (res) {
        pm_spf_result_clear(res);
        free(res);
    }
    return NULL;
}

/* ---- the production lookup: src/dns ---- */

static int ms_left(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double ms = (deadline->tv_sec - now.tv_sec) * 1e3 + (deadline->tv_nsec - now.tv_nsec) / 1e6;
    return ms > 0 ? (int)ms : 0;
}

/* A TXT record's character-strings joined, a NUL byte as 0xff: a C string
 * cannot hold it, and either makes an SPF record malformed. */
static char *txt_text(const unsigned char *d, size_t len)
{
    char *text = pm_malloc(len + 1), *o = text;
    for (size_t i = 0; i < len;) {
        size_t n = d[i++];
        for (; n > 0 && i < len; n--, i++)
            *o++ = d[i] ? (char)d[i] : (char)0xff;
    }
    *o = '\0';
    return text;
}

static void take_answers(pm_spf_question_t *out, const pm_dns_query_t *q)
{
    out->status = q->status;
    if (q->status != PM_DNS_OK)
        return;
    int n = pm_dns_count(q);
    out->answers = pm_calloc((size_t)n + 1, sizeof *out->answers);
    for (int i = 0; i < n; i++) {
        size_t len;
        int pref;
        const unsigned char *d = pm_dns_rdata(q, i, &len);
        if (q->rrtype == T_TXT) {
            out->answers[out->n_answers++] = txt_text(d, len);
            continue;
        }
        char *text = pm_malloc(len + 64); /* decoded text is never longer than rdata + 64 */
        if (pm_dns_rdata_text(q->rrtype, d, len, text, len + 64, &pref) == 0)
            out->answers[out->n_answers++] = text;
        else
            free(text); /* malformed rdata: skipped */
    }
    if (out->n_answers == 0)
        out->status = PM_DNS_NOTFOUND;
}

void pm_spf_dns_resolve(void *ctx, pm_spf_question_t *q, size_t n)
{
    const pm_spf_dns_t *dns = ctx;
    pm_dns_query_t queries[MAX_MX_NAMES > MAX_PTR_NAMES ? MAX_MX_NAMES : MAX_PTR_NAMES];
    if (n > sizeof queries / sizeof queries[0])
        n = sizeof queries / sizeof queries[0];
    memset(queries, 0, sizeof queries);
    for (size_t i = 0; i < n; i++) {
        queries[i].name = q[i].name;
        queries[i].rrtype = q[i].rrtype;
    }
    int ms = ms_left(&dns->deadline);
    if (dns->batch_ms > 0 && dns->batch_ms < ms)
        ms = dns->batch_ms;
    if (ms == 0) {
        for (size_t i = 0; i < n; i++)
            q[i].status = PM_DNS_TIMEOUT;
        return;
    }
    pm_dns_resolve(queries, n, ms);
    for (size_t i = 0; i < n; i++)
        take_answers(&q[i], &queries[i]);
    pm_dns_query_clear(queries, n);
}
