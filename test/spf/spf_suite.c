/* spf_suite: runs src/auth/spf.c against the RFC 7208 test suite, flattened
 * by test/spf/rfc7208.py (its format is described there), reading the zone
 * data through the evaluator's lookup interface instead of a DNS server.
 * Prints one "PASS: spf <file> <id>" or "FAIL: ..." line per test (<file>:
 * the file's base name, "rfc7208"; test/spf/own.tsv holds cases of our own).
 * Usage: spf_suite FILE [TEST-ID] (one test, with its DNS questions traced). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/spf.h"
#include "core/alloc.h"

typedef struct rr {
    char *name, *type, *value;
} rr_t;

static rr_t *zone;
static size_t n_zone, cap_zone;
static int trace;
static char label[64]; /* the file's name without directory and extension: "rfc7208", "own" */

static void unescape(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            *o++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s == 'r' ? '\r' : *s == '0' ? (char)0xff : *s;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
}

/* Splits line on tabs into at most max fields; returns the count. */
static int fields(char *line, char **f, int max)
{
    int n = 0;
    f[n++] = line;
    for (char *c = line; *c && n < max; c++)
        if (*c == '\t') {
            *c = '\0';
            f[n++] = c + 1;
        }
    for (int i = 0; i < n; i++)
        unescape(f[i]);
    return n;
}

static void zone_clear(void)
{
    for (size_t i = 0; i < n_zone; i++) {
        free(zone[i].name);
        free(zone[i].type);
        free(zone[i].value);
    }
    n_zone = 0;
}

static void zone_add(const char *name, const char *type, const char *value)
{
    if (n_zone == cap_zone) {
        cap_zone = cap_zone ? 2 * cap_zone : 64;
        zone = pm_realloc(zone, cap_zone * sizeof *zone);
    }
    char *lower = pm_strdup(name);
    for (char *c = lower; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    size_t n = strlen(lower);
    if (n && lower[n - 1] == '.')
        lower[n - 1] = '\0';
    zone[n_zone++] = (rr_t){lower, pm_strdup(type), pm_strdup(value)};
}

static void add_answer(pm_spf_question_t *q, const char *type, const char *value)
{
    if (strcmp(type, "MX") == 0 && strchr(value, ' '))
        value = strchr(value, ' ') + 1; /* "pref host" */
    q->answers = pm_realloc(q->answers, (size_t)(q->n_answers + 1) * sizeof *q->answers);
    char *v = pm_strdup(value);
    size_t n = strlen(v);
    if (strcmp(type, "TXT") != 0 && n && v[n - 1] == '.')
        v[n - 1] = '\0';
    q->answers[q->n_answers++] = v;
}

/* Answers name/type as the suite's own driver does: records in order, a
 * TIMEOUT entry times out what was not answered before it, CNAMEs are
 * followed, a name not in the zone is NXDOMAIN (a timeout under "error."). */
static void answer(pm_spf_question_t *q, const char *qname, int depth)
{
    char name[PM_SPF_NAME_LEN];
    snprintf(name, sizeof name, "%s", qname);
    for (char *c = name; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    size_t len = strlen(name);
    if (len && name[len - 1] == '.')
        name[len - 1] = '\0';
    const char *type = pm_dns_type_name(q->rrtype), *cname = NULL;
    int known = 0;
    for (size_t i = 0; i < n_zone; i++) {
        const rr_t *r = &zone[i];
        if (strcmp(r->name, name) != 0)
            continue;
        known = 1;
        if (strcmp(r->type, "TIMEOUT") == 0 && (strcmp(r->value, "*") == 0 ? q->n_answers == 0 : strcmp(r->value, type) == 0)) {
            q->status = PM_DNS_TIMEOUT;
            return;
        }
        if (strcmp(r->type, "TIMEOUT") == 0 && strcmp(r->value, "*") == 0)
            break;
        if (strcmp(r->type, type) == 0)
            add_answer(q, type, r->value);
        else if (strcmp(r->type, "CNAME") == 0)
            cname = r->value;
    }
    if (q->n_answers == 0 && cname && depth < 10) {
        answer(q, cname, depth + 1);
        return;
    }
    if (!known && strncmp(name, "error.", 6) == 0) {
        q->status = PM_DNS_TIMEOUT;
        return;
    }
    q->status = q->n_answers ? PM_DNS_OK : PM_DNS_NOTFOUND;
}

static void resolve(void *ctx, pm_spf_question_t *q, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        answer(&q[i], q[i].name, 0);
        if (trace)
            fprintf(stderr, "  dns %s %s -> %d (%d answers)\n", q[i].name, pm_dns_type_name(q[i].rrtype), q[i].status,
                    q[i].n_answers);
    }
}

static int allowed(const char *got, const char *results)
{
    char list[128];
    snprintf(list, sizeof list, "%s", results);
    for (char *save = NULL, *r = strtok_r(list, ",", &save); r; r = strtok_r(NULL, ",", &save))
        if (strcmp(r, got) == 0)
            return 1;
    return 0;
}

/* Runs one test line's fields; returns 1 if it passed. */
static int run_test(char **f)
{
    const char *id = f[1], *ip = f[2], *mailfrom = f[3], *helo = f[4], *results = f[5], *exp = f[6];
    pm_spf_request_t req = {.ip = ip, .sender = mailfrom, .helo = helo, .default_explanation = "DEFAULT",
                            .resolve = resolve};
    pm_spf_result_t res;
    pm_spf_check(&req, &res);
    const char *got = pm_spf_code_name(res.code);
    int ok = allowed(got, results);
    int exp_ok = exp[0] != '=' || (res.explanation && strcmp(res.explanation, exp + 1) == 0);
    if (ok && exp_ok)
        printf("PASS: spf %s %s (%s)\n", label, id, got);
    else
        printf("FAIL: spf %s %s: got %s (%s; mechanism %s; explanation \"%s\"), want %s%s%s\n", label, id, got,
               res.problem ? res.problem : "-", res.mechanism ? res.mechanism : "-",
               res.explanation ? res.explanation : "", results, exp[0] == '=' ? ", explanation " : "",
               exp[0] == '=' ? exp + 1 : "");
    pm_spf_result_clear(&res);
    return ok && exp_ok;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: spf_suite FILE [TEST-ID]\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "r");
    if (in == NULL) {
        perror(argv[1]);
        return 2;
    }
    const char *base = strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1];
    snprintf(label, sizeof label, "%.*s", (int)strcspn(base, "."), base);
    const char *only = argc > 2 ? argv[2] : NULL;
    trace = only != NULL;
    char *line = NULL;
    size_t cap = 0;
    int tests = 0, failures = 0;
    while (getline(&line, &cap, in) > 0) {
        line[strcspn(line, "\n")] = '\0';
        char *f[8];
        int n = fields(line, f, 8);
        if (strcmp(f[0], "S") == 0)
            zone_clear();
        else if (strcmp(f[0], "R") == 0 && n == 4)
            zone_add(f[1], f[2], f[3]);
        else if (strcmp(f[0], "T") == 0 && n == 7 && (!only || strcmp(only, f[1]) == 0)) {
            tests++;
            failures += !run_test(f);
        }
    }
    free(line);
    fclose(in);
    zone_clear();
    free(zone);
    fprintf(stderr, "spf_suite: %d tests, %d failed\n", tests, failures);
    return failures ? 1 : 0;
}
