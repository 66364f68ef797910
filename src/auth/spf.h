/* spf: an RFC 7208 SPF evaluator (check_host) on a pluggable DNS lookup.
 * Owns record parsing (strict: anything malformed is a permerror), every
 * mechanism and modifier, macro expansion, the 10 DNS-mechanism and
 * 2 void-lookup limits, exp= explanations. Knows nothing of Ruby or
 * libmilter. DNS goes through pm_spf_resolve_fn: production uses
 * pm_spf_dns_resolve (src/dns, one deadline for the whole check); tests feed
 * zone data directly.
 * Threads: any; one pm_spf_check runs on its caller's thread and keeps no
 * global state. Diagnostics: the result's `problem` says why a permerror or
 * temperror happened. */
#ifndef PM_SPF_H
#define PM_SPF_H
#include <stddef.h>
#include <time.h>

#include "dns/dns.h"

typedef enum {
    PM_SPF_NONE,
    PM_SPF_NEUTRAL,
    PM_SPF_PASS,
    PM_SPF_FAIL,
    PM_SPF_SOFTFAIL,
    PM_SPF_TEMPERROR,
    PM_SPF_PERMERROR,
} pm_spf_code_t;

#define PM_SPF_NAME_LEN 256 /* a DNS name as text is at most 253 characters */

/* One DNS question of the evaluator, answered by a pm_spf_resolve_fn. */
typedef struct pm_spf_question {
    char name[PM_SPF_NAME_LEN]; /* in: without the trailing dot */
    int rrtype;                 /* in: 1 A, 28 AAAA, 15 MX, 16 TXT, 12 PTR */
    pm_dns_status_t status;     /* out: OK (answers), NOTFOUND, ERROR, TIMEOUT */
    char **answers; /* out: malloc'd texts, freed by the evaluator: an address for A/AAAA,
                       a host name for MX/PTR, the joined character-strings for TXT
                       (a NUL byte in them as 0xff) */
    int n_answers;
} pm_spf_question_t;

/* Answers the n questions (all at once if it can) before returning. */
typedef void (*pm_spf_resolve_fn)(void *ctx, pm_spf_question_t *q, size_t n);

typedef struct pm_spf_request {
    const char *ip;       /* the SMTP client: "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1";
                             NULL (a unix socket): the result is none, nothing asked */
    const char *sender;   /* MAIL FROM address without <>; "" or NULL: the HELO identity */
    const char *helo;     /* HELO/EHLO argument */
    const char *receiver; /* %{r} in explanations; NULL: "unknown" */
    const char *default_explanation; /* a fail's explanation without a usable exp=; NULL: built in */
    pm_spf_resolve_fn resolve;
    void *resolve_ctx;
} pm_spf_request_t;

typedef struct pm_spf_result {
    pm_spf_code_t code;
    char *domain;      /* the identity's domain (MAIL FROM's, or HELO's); owned */
    char *mechanism;   /* the term that decided, as written ("-all"); NULL when none matched; owned */
    char *explanation; /* fail only: exp= text or the default; NULL otherwise; owned */
    char *problem;     /* permerror/temperror: why; NULL otherwise; owned */
    int dns_mechanisms; /* DNS-querying terms evaluated (limit 10) */
    int void_lookups;   /* answers with no records (limit 2) */
    int queries;        /* DNS questions asked */
} pm_spf_result_t;

/* Runs check_host() for req; fills res (clear it with pm_spf_result_clear). */
void pm_spf_check(const pm_spf_request_t *req, pm_spf_result_t *res);
void pm_spf_result_clear(pm_spf_result_t *res);
/* Clears and frees a heap result; returns NULL. */
pm_spf_result_t *pm_spf_result_free(pm_spf_result_t *res);
/* "pass", "fail", "softfail", "neutral", "none", "temperror", "permerror" */
const char *pm_spf_code_name(pm_spf_code_t code);

/* The production lookup: src/dns's pm_dns_resolve, every wait ending by
 * `deadline` (CLOCK_MONOTONIC). ctx is a pm_spf_dns_t. */
typedef struct pm_spf_dns {
    struct timespec deadline; /* no wait goes past it */
    int batch_ms;             /* nor past this for one batch of questions ([dns] timeout_ms) */
} pm_spf_dns_t;
void pm_spf_dns_resolve(void *ctx, pm_spf_question_t *q, size_t n);

#endif
