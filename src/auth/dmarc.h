/* dmarc: DMARC (RFC 7489) over libopendmarc. libopendmarc evaluates the
 * policy and alignment from the results it is given; the _dmarc TXT records
 * are fetched here through src/dns (deadline, cache, test server), never by
 * libopendmarc's own resolver. Organizational domains come from the Public
 * Suffix List that libopendmarc reads once at pm_dmarc_start.
 * Threads: start from main only; evaluate from any thread. */
#ifndef PM_DMARC_H
#define PM_DMARC_H
#include <stddef.h>

#include "auth/dkim.h"

#define PM_PUBLIC_SUFFIX_LIST "/usr/share/publicsuffix/public_suffix_list.dat"

typedef struct pm_dmarc_input {
    const char *from_header;   /* the From header's value (one header; NULL: none) */
    const char *client_ip;     /* "" or NULL when unknown */
    const char *spf_result;    /* "pass", "fail", ... or NULL when SPF was not checked */
    const char *spf_domain;    /* the domain SPF checked (MAIL FROM's, or HELO's) */
    int spf_helo;              /* spf_domain is the HELO identity */
    const pm_dkim_sig_t *sigs; /* the message's DKIM results */
    size_t n_sigs;
    int timeout_ms;            /* for the _dmarc lookups together */
} pm_dmarc_input_t;

typedef struct pm_dmarc_result {
    const char *result;      /* "pass", "fail", "none", "temperror", "permerror" (static) */
    const char *policy;      /* what the domain asks for this message: "none", "quarantine", "reject" */
    char from_domain[256];   /* RFC5322.From domain, lower case ("" if none) */
    char org_domain[256];    /* its organizational domain (Public Suffix List) */
    char record_domain[256]; /* where the record was found ("" if none) */
    int aligned_spf, aligned_dkim;
    char reason[160];        /* for none/temperror/permerror */
} pm_dmarc_result_t;

/* Loads the Public Suffix List (path NULL: PM_PUBLIC_SUFFIX_LIST). 0, or -1 with why. */
int pm_dmarc_start(const char *psl_path, char *err, size_t errlen);
void pm_dmarc_stop(void);
void pm_dmarc_evaluate(const pm_dmarc_input_t *in, pm_dmarc_result_t *out);

#endif
