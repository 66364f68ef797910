/* dns: the process's one DNS resolver (libunbound) and parallel queries with
 * a deadline. Created once at start-up (pm_dns_start) and kept across
 * configuration reloads, so its cache survives them; freed at exit.
 * A caller fills an array of queries and pm_dns_resolve issues them all at
 * once and waits once, never past its timeout: a handler waiting on DNS holds
 * only its own thread. Knows nothing of Ruby or libmilter.
 * Threads: pm_dns_start/stop from main only; pm_dns_resolve and the decoding
 * helpers from any thread. Errors go to the caller (err buffers, statuses). */
#ifndef PM_DNS_H
#define PM_DNS_H
#include <stddef.h>

typedef enum {
    PM_DNS_OK,       /* answers in result (at least one record) */
    PM_DNS_NOTFOUND, /* NXDOMAIN or NODATA: no records, not an error */
    PM_DNS_ERROR,    /* SERVFAIL, REFUSED, or the resolver failed: rcode/why say which */
    PM_DNS_TIMEOUT,  /* no answer before the deadline; the query was cancelled */
    PM_DNS_STATUSES  /* how many there are */
} pm_dns_status_t;

typedef struct pm_dns_settings {
    const char *resolver;   /* "system", "recursive", or forwarders separated by spaces ("127.0.0.1@5353 ::1") */
    int cache_mb;           /* MiB for the message cache (the record cache gets twice that) */
    const char *hosts_file; /* NULL: none */
} pm_dns_settings_t;

typedef struct pm_dns_query {
    const char *name; /* in: borrowed until pm_dns_resolve returns */
    int rrtype;       /* in: 1 A, 28 AAAA, 15 MX, 16 TXT, 12 PTR, ... */
    pm_dns_status_t status;
    int rcode;              /* DNS rcode of the answer (2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED) */
    const char *why;        /* PM_DNS_ERROR: a static description */
    double elapsed_ms;      /* from issue to answer (or to the deadline) */
    struct ub_result *result; /* PM_DNS_OK: owned; freed by pm_dns_query_clear */
    void *pending;          /* private to dns.c */
} pm_dns_query_t;

/* Creates the resolver. 0, or -1 with why in err. */
int pm_dns_start(const pm_dns_settings_t *settings, char *err, size_t errlen);
void pm_dns_stop(void);
/* Issues the n queries at once and returns when all are answered or after
 * timeout_ms; every query then has a status. Without pm_dns_start every
 * query is PM_DNS_ERROR ("no resolver"). */
void pm_dns_resolve(pm_dns_query_t *q, size_t n, int timeout_ms);
/* Frees the answers of the n queries. */
void pm_dns_query_clear(pm_dns_query_t *q, size_t n);

/* Records of an answer: count, and record i's rdata (wire format). */
int pm_dns_count(const pm_dns_query_t *q);
const unsigned char *pm_dns_rdata(const pm_dns_query_t *q, int i, size_t *len);
/* Text of one record of type rrtype: an address for A/AAAA, a host name
 * without the trailing dot for PTR/NS/CNAME, "pref host" split into *pref and
 * out for MX, the joined character-strings for TXT. 0, or -1 for a type it
 * does not decode or malformed rdata. */
int pm_dns_rdata_text(int rrtype, const unsigned char *data, size_t len, char *out, size_t outlen, int *pref);
/* The type number of "A", "mx", ... (or "TYPE99"); -1 if unknown. */
int pm_dns_type_from_name(const char *name);
const char *pm_dns_type_name(int rrtype); /* "A", ... or "TYPE" for the rest */
/* ip reversed under zone: "4.3.2.1.zone" for IPv4 (also written as
 * ::ffff:1.2.3.4), 32 nibbles for IPv6.
 * zone NULL: in-addr.arpa / ip6.arpa. 0, or -1 if ip is not an address. */
int pm_dns_reverse_name(const char *ip, const char *zone, char *out, size_t outlen);
/* Do two address strings name the same address (2001:db8::1 = 2001:DB8:0::1)? */
int pm_dns_same_address(const char *a, const char *b);

/* Counters since start, for the metrics endpoint (docs/metrics.md): queries
 * asked, their outcomes by status, and the time callers waited in
 * pm_dns_resolve (once per batch, however many queries it had). */
typedef struct pm_dns_stats {
    unsigned long long queries, status[PM_DNS_STATUSES], wait_us;
} pm_dns_stats_t;
pm_dns_stats_t pm_dns_stats(void);

#endif
