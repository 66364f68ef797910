/* spf_fuzz: libFuzzer target for src/auth/spf.c: the record parser, macro
 * expansion and the evaluator's limits. The input is up to 16 lines: line 0
 * is the first TXT answer (the identity's record), line 1 the MAIL FROM
 * address, and every later TXT question (include, redirect, exp=) gets the
 * line a hash of its name picks, so includes and redirects reach fuzzed
 * records too. Other types are answered from the same hash: addresses,
 * up to 12 MX hosts, PTR names, NOTFOUND, errors and timeouts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/spf.h"
#include "core/alloc.h"

#define MAX_LINES 16

typedef struct zone {
    char *lines[MAX_LINES];
    int n, txt_asked;
} zone_t;

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void add(pm_spf_question_t *q, const char *text)
{
    q->answers = pm_realloc(q->answers, (size_t)(q->n_answers + 1) * sizeof *q->answers);
    q->answers[q->n_answers++] = pm_strdup(text);
}

static void resolve(void *ctx, pm_spf_question_t *q, size_t n)
{
    zone_t *z = ctx;
    for (size_t i = 0; i < n; i++) {
        unsigned h = hash(q[i].name) ^ (unsigned)q[i].rrtype;
        char buf[64];
        q[i].status = PM_DNS_OK;
        if (h % 13 == 0 && !(q[i].rrtype == 16 && z->txt_asked == 0)) {
            q[i].status = h % 2 ? PM_DNS_TIMEOUT : PM_DNS_ERROR;
            continue;
        }
        switch (q[i].rrtype) {
        case 16:
            add(&q[i], z->lines[z->txt_asked++ == 0 ? 0 : h % (unsigned)z->n]);
            if (h % 5 == 0)
                add(&q[i], z->lines[(h / 5) % (unsigned)z->n]);
            break;
        case 1:
            if (h % 3) {
                snprintf(buf, sizeof buf, "192.0.2.%u", h % 256);
                add(&q[i], buf);
            }
            break;
        case 28:
            if (h % 3) {
                snprintf(buf, sizeof buf, "2001:db8::%x", h % 65536);
                add(&q[i], buf);
            }
            break;
        case 15:
            for (unsigned k = 0; k < h % 12; k++) {
                snprintf(buf, sizeof buf, "mx%u.example.com", k);
                add(&q[i], buf);
            }
            break;
        case 12:
            add(&q[i], "mail.example.com");
            add(&q[i], h % 2 ? "example.org" : ".");
            break;
        }
        if (q[i].n_answers == 0)
            q[i].status = PM_DNS_NOTFOUND;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const clients[] = {"192.0.2.1", "2001:db8::1", "::ffff:192.0.2.200"};
    zone_t z = {.n = 0};
    const char *p = (const char *)data, *end = p + size;
    while (p <= end && z.n < MAX_LINES) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        z.lines[z.n++] = pm_strndup(p, len); /* a NUL inside ends the line early: as the DNS decoder's 0xff would not */
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    const char *sender = z.n > 1 ? z.lines[1] : "user@example.com";
    pm_spf_request_t req = {.ip = clients[size % 3], .sender = sender, .helo = "helo.example.net",
                            .receiver = "mx.example.org", .resolve = resolve, .resolve_ctx = &z};
    pm_spf_result_t res;
    pm_spf_check(&req, &res);
    if (res.dns_mechanisms > 11 || res.void_lookups > 3) /* the limits stop the check one step past them */
        abort();
    pm_spf_result_clear(&res);
    for (int i = 0; i < z.n; i++)
        free(z.lines[i]);
    return 0;
}
