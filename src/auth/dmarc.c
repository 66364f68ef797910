/* dmarc: libopendmarc fed with records fetched through src/dns. For each
 * message: find the RFC5322.From domain, ask _dmarc.<from> and
 * _dmarc.<organizational domain> at once (one wait), hand the record that
 * applies to opendmarc_policy_store_dmarc to parse, and decide pass/fail from
 * its tags and the identifiers' alignment (RFC 7489 3.1, 6.6).
 * Threads: pm_dmarc_start from main (loads the Public Suffix List into
 * libopendmarc's process-wide table, read-only afterwards); evaluate from
 * any thread, each on its own policy context. */
#include "auth/dmarc.h"

#include <ctype.h>
#include <opendmarc/dmarc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/dns.h"

/* Exported by libopendmarc 1.4 but missing from its header. */
int opendmarc_get_tld(unsigned char *domain, unsigned char *tld, size_t tld_len);

static OPENDMARC_LIB_T lib_settings;
static int started;

int pm_dmarc_start(const char *psl_path, char *err, size_t errlen)
{
    if (started)
        return 0;
    const char *path = psl_path ? psl_path : PM_PUBLIC_SUFFIX_LIST;
    memset(&lib_settings, 0, sizeof lib_settings);
    lib_settings.tld_type = OPENDMARC_TLD_TYPE_MOZILLA;
    snprintf((char *)lib_settings.tld_source_file, sizeof lib_settings.tld_source_file, "%s", path);
    if (opendmarc_policy_library_init(&lib_settings) != DMARC_PARSE_OKAY) {
        snprintf(err, errlen, "dmarc: cannot load the Public Suffix List %s (Debian package publicsuffix)", path);
        return -1;
    }
    started = 1;
    return 0;
}

void pm_dmarc_stop(void)
{
    if (started)
        opendmarc_policy_library_shutdown(&lib_settings);
    started = 0;
}

/* The DMARC record among a name's TXT records: *record set to it (malloc'ed)
 * if exactly one starts with v=DMARC1 (RFC 7489 6.6.3: several = none). */
static char *dmarc_record(const pm_dns_query_t *q)
{
    char *found = NULL;
    int n = 0;
    for (int i = 0; q->status == PM_DNS_OK && i < pm_dns_count(q); i++) {
        size_t len;
        const unsigned char *data = pm_dns_rdata(q, i, &len);
        char text[4096];
        if (pm_dns_rdata_text(16, data, len, text, sizeof text, NULL) != 0)
            continue;
        const char *t = text + strspn(text, " \t");
        if (strncmp(t, "v=DMARC1", 8) != 0 || (t[8] && t[8] != ';' && t[8] != ' ' && t[8] != '\t'))
            continue;
        if (n++ == 0)
            found = strdup(t);
    }
    if (n > 1) {
        free(found);
        return NULL;
    }
    return found;
}

static const char *policy_name(int p)
{
    return p == DMARC_RECORD_P_REJECT ? "reject" : p == DMARC_RECORD_P_QUARANTINE ? "quarantine" : "none";
}

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

/* Looks up the record that applies to out->from_domain; sets out->record_domain.
 * Returns the record (malloc'ed), or NULL with out->result set (none, temperror). */
static char *find_record(pm_dmarc_result_t *out, int timeout_ms)
{
    char names[2][300];
    snprintf(names[0], sizeof names[0], "_dmarc.%s", out->from_domain);
    snprintf(names[1], sizeof names[1], "_dmarc.%s", out->org_domain);
    int n = strcasecmp(out->from_domain, out->org_domain) != 0 ? 2 : 1;
    pm_dns_query_t q[2] = {{.name = names[0], .rrtype = 16}, {.name = names[1], .rrtype = 16}};
    pm_dns_resolve(q, (size_t)n, timeout_ms);
    char *record = NULL;
    for (int i = 0; i < n && record == NULL; i++) {
        if (q[i].status == PM_DNS_TIMEOUT || q[i].status == PM_DNS_ERROR) {
            out->result = "temperror";
            snprintf(out->reason, sizeof out->reason, "%.100s TXT: %s", names[i],
                     q[i].status == PM_DNS_TIMEOUT ? "timeout" : q[i].why ? q[i].why : "DNS error");
            break;
        }
        record = dmarc_record(&q[i]);
        if (record)
            snprintf(out->record_domain, sizeof out->record_domain, "%s", names[i] + 7);
    }
    pm_dns_query_clear(q, (size_t)n);
    if (record == NULL && strcmp(out->result, "temperror") != 0) {
        out->result = "none";
        snprintf(out->reason, sizeof out->reason, "no DMARC record for %.120s", out->from_domain);
    }
    return record;
}

/* The organizational domain (RFC 7489 3.2) of domain. libopendmarc's
 * lookup answers "" for a name under a TLD the list does not have (all
 * .example, .internal names); the list's default rule "*" makes the TLD
 * the public suffix there, so the organizational domain is the last two labels. */
static void org_domain(const char *domain, char *out, size_t len)
{
    if (opendmarc_get_tld((unsigned char *)domain, (unsigned char *)out, len) == 0 && out[0] != '\0')
        return;
    const char *last = strrchr(domain, '.'), *org = domain;
    for (const char *p = domain; last && p < last; p++)
        if (*p == '.')
            org = p + 1;
    snprintf(out, len, "%s", org);
}

/* RFC 7489 3.1: strict: the same name; relaxed: the same organizational domain. */
static int aligned(const char *domain, const pm_dmarc_result_t *out, int mode)
{
    if (domain == NULL || domain[0] == '\0')
        return 0;
    if (strcasecmp(domain, out->from_domain) == 0)
        return 1;
    if (mode == DMARC_RECORD_A_STRICT)
        return 0;
    char org[256];
    org_domain(domain, org, sizeof org);
    return strcasecmp(org, out->org_domain) == 0;
}

/* The verdict from the parsed record: libopendmarc gives the record's tags;
 * alignment is computed here (its own check counts every two names under an
 * unlisted TLD as aligned: a.example with b.example). */
static void apply_policy(DMARC_POLICY_T *p, const pm_dmarc_input_t *in, pm_dmarc_result_t *out)
{
    int adkim = DMARC_RECORD_A_RELAXED, aspf = DMARC_RECORD_A_RELAXED;
    int pol = DMARC_RECORD_P_UNSPECIFIED, sp = DMARC_RECORD_P_UNSPECIFIED;
    opendmarc_policy_fetch_adkim(p, &adkim);
    opendmarc_policy_fetch_aspf(p, &aspf);
    opendmarc_policy_fetch_p(p, &pol);
    opendmarc_policy_fetch_sp(p, &sp);
    for (size_t i = 0; i < in->n_sigs; i++)
        if (strcmp(in->sigs[i].result, "pass") == 0 && aligned(in->sigs[i].domain, out, adkim))
            out->aligned_dkim = 1;
    out->aligned_spf = in->spf_result && strcmp(in->spf_result, "pass") == 0 && aligned(in->spf_domain, out, aspf);
    /* RFC 7489 6.6.3: the record of the organizational domain speaks for a subdomain with sp= if it has one. */
    int subdomain = strcasecmp(out->record_domain, out->from_domain) != 0;
    out->policy = policy_name(subdomain && sp != DMARC_RECORD_P_UNSPECIFIED ? sp : pol);
    out->result = out->aligned_dkim || out->aligned_spf ? "pass" : "fail";
}

void pm_dmarc_evaluate(const pm_dmarc_input_t *in, pm_dmarc_result_t *out)
{
    memset(out, 0, sizeof *out);
    out->result = "none";
    out->policy = "none";
    if (!started) {
        out->result = "temperror";
        snprintf(out->reason, sizeof out->reason, "dmarc: not started");
        return;
    }
    const char *ip = in->client_ip && in->client_ip[0] ? in->client_ip : "0.0.0.0";
    DMARC_POLICY_T *p = opendmarc_policy_connect_init((unsigned char *)ip, strchr(ip, ':') != NULL);
    if (p == NULL) {
        out->result = "temperror";
        snprintf(out->reason, sizeof out->reason, "dmarc: out of memory");
        return;
    }
    if (in->from_header == NULL ||
        opendmarc_policy_store_from_domain(p, (unsigned char *)in->from_header) != DMARC_PARSE_OKAY ||
        opendmarc_policy_fetch_from_domain(p, (unsigned char *)out->from_domain, sizeof out->from_domain) !=
            DMARC_PARSE_OKAY ||
        out->from_domain[0] == '\0') {
        out->result = "permerror";
        snprintf(out->reason, sizeof out->reason, "%s", in->from_header ? "no domain in From" : "no From header");
        opendmarc_policy_connect_shutdown(p);
        return;
    }
    lower(out->from_domain);
    org_domain(out->from_domain, out->org_domain, sizeof out->org_domain);
    char *record = find_record(out, in->timeout_ms);
    if (record) {
        int st = opendmarc_policy_store_dmarc(p, (unsigned char *)record, (unsigned char *)out->record_domain,
                                              (unsigned char *)out->org_domain);
        if (st != DMARC_PARSE_OKAY) {
            out->result = "permerror";
            snprintf(out->reason, sizeof out->reason, "_dmarc.%.100s: %s", out->record_domain,
                     opendmarc_policy_status_to_str(st));
        } else {
            apply_policy(p, in, out);
        }
        free(record);
    }
    opendmarc_policy_connect_shutdown(p);
}
