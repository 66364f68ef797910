/* dns: one libunbound context for the process, parallel queries bounded by a
 * deadline (see dns.h). libunbound runs its own resolver thread; a dispatcher
 * thread here reads its answers (ub_process) and hands each to the query that
 * waits for it. A waiter that reaches its deadline cancels what is still
 * pending; an answer that was already on its way is dropped on arrival.
 * Threads: start/stop from main; resolve from any thread. */
#include "dns/dns.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unbound.h>
#include <unistd.h>

#include "core/alloc.h"

typedef struct pending {
    pm_dns_query_t *q; /* NULL once the waiter gave up: the answer is dropped */
    int async_id;
    struct timespec issued;
    int *remaining; /* the waiter's count of unanswered queries */
} pending_t;

static struct ub_ctx *ctx;
static pthread_t dispatcher;
static int stop_pipe[2] = {-1, -1};
/* Guards every pending_t and the waiters' counts; answers broadcast `answered`. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t answered;
/* pm_dns_stats: relaxed atomics, added to as each pm_dns_resolve returns. */
static atomic_ullong stat_queries, stat_status[PM_DNS_STATUSES], stat_wait_us;

static double ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t0->tv_sec) * 1e3 + (now.tv_nsec - t0->tv_nsec) / 1e6;
}

static void set_outcome(pm_dns_query_t *q, int err, struct ub_result *res)
{
    if (err != 0) {
        q->status = PM_DNS_ERROR;
        q->why = ub_strerror(err);
    } else if (res->havedata) {
        q->status = PM_DNS_OK;
        q->rcode = res->rcode;
        q->result = res;
        return;
    } else if (res->rcode == 0 || res->nxdomain) {
        q->status = PM_DNS_NOTFOUND; /* NODATA or NXDOMAIN */
        q->rcode = res->rcode;
    } else {
        q->status = PM_DNS_ERROR;
        q->rcode = res->rcode;
        q->why = res->rcode == 2 ? "SERVFAIL" : res->rcode == 5 ? "REFUSED" : "error rcode";
    }
    if (res)
        ub_resolve_free(res);
}

/* Runs in the dispatcher thread, inside ub_process. */
static void on_answer(void *arg, int err, struct ub_result *res)
{
    pending_t *p = arg;
    pthread_mutex_lock(&mu);
    if (p->q == NULL) { /* the waiter has gone */
        pthread_mutex_unlock(&mu);
        if (res)
            ub_resolve_free(res);
        free(p);
        return;
    }
    p->q->elapsed_ms = ms_since(&p->issued);
    set_outcome(p->q, err, res);
    p->q->pending = NULL;
    (*p->remaining)--;
    pthread_cond_broadcast(&answered);
    pthread_mutex_unlock(&mu);
    free(p);
}

static void *dispatch_loop(void *unused)
{
    struct pollfd fds[2] = {{.fd = ub_fd(ctx), .events = POLLIN}, {.fd = stop_pipe[0], .events = POLLIN}};
    for (;;) {
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
        if (fds[1].revents)
            break;
        if (fds[0].revents && ub_process(ctx) != 0)
            usleep(1000); /* a broken pipe to the resolver thread: do not spin */
    }
    return NULL;
}

static int set_option(const char *opt, const char *val, char *err, size_t errlen)
{
    int rc = ub_ctx_set_option(ctx, opt, val);
    if (rc != 0)
        snprintf(err, errlen, "dns: %s %s: %s", opt, val, ub_strerror(rc));
    return rc ? -1 : 0;
}

static int configure(const pm_dns_settings_t *s, char *err, size_t errlen)
{
    char size[32];
    snprintf(size, sizeof size, "%dm", s->cache_mb);
    if (set_option("msg-cache-size:", size, err, errlen))
        return -1;
    snprintf(size, sizeof size, "%dm", 2 * s->cache_mb);
    if (set_option("rrset-cache-size:", size, err, errlen))
        return -1;
    /* Forwarders on loopback (a local cache, a test server) are normal here. */
    if (set_option("do-not-query-localhost:", "no", err, errlen))
        return -1;
    int rc = 0;
    const char *r = s->resolver ? s->resolver : "system";
    if (strcmp(r, "system") == 0) {
        rc = ub_ctx_resolvconf(ctx, NULL);
        if (rc != 0) {
            snprintf(err, errlen, "dns: cannot read /etc/resolv.conf: %s", ub_strerror(rc));
            return -1;
        }
    } else if (strcmp(r, "recursive") != 0) {
        char *copy = pm_strdup(r), *save = NULL;
        for (char *fwd = strtok_r(copy, " ", &save); fwd && rc == 0; fwd = strtok_r(NULL, " ", &save))
            if ((rc = ub_ctx_set_fwd(ctx, fwd)) != 0)
                snprintf(err, errlen, "dns: forwarder \"%s\": %s", fwd, ub_strerror(rc));
        free(copy);
        if (rc != 0)
            return -1;
    }
    if (s->hosts_file && (rc = ub_ctx_hosts(ctx, s->hosts_file)) != 0) {
        snprintf(err, errlen, "dns: hosts_file %s: %s", s->hosts_file, ub_strerror(rc));
        return -1;
    }
    /* Threads, not a forked process: the cache is shared with no IPC. */
    if ((rc = ub_ctx_async(ctx, 1)) != 0) {
        snprintf(err, errlen, "dns: %s", ub_strerror(rc));
        return -1;
    }
    return 0;
}

int pm_dns_start(const pm_dns_settings_t *s, char *err, size_t errlen)
{
    err[0] = '\0';
    ctx = ub_ctx_create();
    if (ctx == NULL) {
        snprintf(err, errlen, "dns: cannot create the resolver");
        return -1;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&answered, &ca);
    pthread_condattr_destroy(&ca);
    if (configure(s, err, errlen) != 0 || pipe(stop_pipe) != 0 ||
        pthread_create(&dispatcher, NULL, dispatch_loop, NULL) != 0) {
        if (err[0] == '\0' || stop_pipe[0] < 0)
            snprintf(err, errlen, "dns: cannot start: %s", strerror(errno));
        ub_ctx_delete(ctx);
        ctx = NULL;
        return -1;
    }
    return 0;
}

void pm_dns_stop(void)
{
    if (ctx == NULL)
        return;
    if (write(stop_pipe[1], "x", 1) == 1)
        pthread_join(dispatcher, NULL);
    close(stop_pipe[0]);
    close(stop_pipe[1]);
    stop_pipe[0] = stop_pipe[1] = -1;
    /* A handler still waiting (one the watchdog gave up on) sees no resolver. */
    pthread_mutex_lock(&mu);
    struct ub_ctx *gone = ctx;
    ctx = NULL;
    pthread_mutex_unlock(&mu);
    ub_ctx_delete(gone); /* drops what is still pending, callbacks not called */
}

/* Issues one query; not under mu, so a busy resolver pipe never blocks the
 * dispatcher. The answer may arrive before ub_resolve_async returns. */
static void issue(pm_dns_query_t *q, int *remaining)
{
    pending_t *p = pm_calloc(1, sizeof *p);
    p->q = q;
    p->remaining = remaining;
    p->async_id = -1;
    clock_gettime(CLOCK_MONOTONIC, &p->issued);
    pthread_mutex_lock(&mu);
    q->pending = p;
    pthread_mutex_unlock(&mu);
    int id = -1;
    int rc = ub_resolve_async(ctx, q->name, q->rrtype, 1 /* IN */, p, on_answer, &id);
    pthread_mutex_lock(&mu);
    if (rc != 0) { /* no callback will come */
        q->status = PM_DNS_ERROR;
        q->why = ub_strerror(rc);
        q->pending = NULL;
        (*remaining)--;
        free(p);
    } else if (q->pending == p) {
        p->async_id = id;
    }
    pthread_mutex_unlock(&mu);
}

/* The deadline passed: cancel what is unanswered. Holding mu keeps a late
 * answer's callback out until its query is marked abandoned. */
static void abandon(pm_dns_query_t *q, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        pending_t *p = q[i].pending;
        if (p == NULL)
            continue;
        q[i].status = PM_DNS_TIMEOUT;
        q[i].elapsed_ms = ms_since(&p->issued);
        q[i].pending = NULL;
        p->q = NULL;
        if (ctx == NULL || ub_cancel(ctx, p->async_id) == 0)
            free(p); /* cancelled (or the resolver is gone): its callback will never run */
        /* else the answer is in flight; on_answer frees p */
    }
}

/* Adds a finished batch to the counters. */
static void count(const pm_dns_query_t *q, size_t n, double waited_ms)
{
    atomic_fetch_add_explicit(&stat_queries, n, memory_order_relaxed);
    for (size_t i = 0; i < n; i++)
        atomic_fetch_add_explicit(&stat_status[q[i].status], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&stat_wait_us, (unsigned long long)(waited_ms * 1000), memory_order_relaxed);
}

pm_dns_stats_t pm_dns_stats(void)
{
    pm_dns_stats_t st = {atomic_load(&stat_queries), {0}, atomic_load(&stat_wait_us)};
    for (int i = 0; i < PM_DNS_STATUSES; i++)
        st.status[i] = atomic_load(&stat_status[i]);
    return st;
}

void pm_dns_resolve(pm_dns_query_t *q, size_t n, int timeout_ms)
{
    for (size_t i = 0; i < n; i++) {
        q[i].status = PM_DNS_ERROR;
        q[i].why = "no resolver";
        q[i].rcode = 0;
        q[i].result = NULL;
        q[i].pending = NULL;
        q[i].elapsed_ms = 0;
    }
    struct timespec started, deadline;
    clock_gettime(CLOCK_MONOTONIC, &started);
    if (ctx == NULL) {
        count(q, n, 0);
        return;
    }
    deadline = started;
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    int remaining = (int)n;
    for (size_t i = 0; i < n; i++)
        issue(&q[i], &remaining);
    pthread_mutex_lock(&mu);
    while (remaining > 0)
        if (pthread_cond_timedwait(&answered, &mu, &deadline) == ETIMEDOUT)
            break;
    if (remaining > 0)
        abandon(q, n);
    pthread_mutex_unlock(&mu);
    count(q, n, ms_since(&started));
}

void pm_dns_query_clear(pm_dns_query_t *q, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (q[i].result)
            ub_resolve_free(q[i].result);
        q[i].result = NULL;
    }
}

int pm_dns_count(const pm_dns_query_t *q)
{
    int n = 0;
    if (q->result)
        while (q->result->data[n])
            n++;
    return n;
}

const unsigned char *pm_dns_rdata(const pm_dns_query_t *q, int i, size_t *len)
{
    *len = (size_t)q->result->len[i];
    return (const unsigned char *)q->result->data[i];
}

/* A wire-format name (uncompressed, as libunbound hands rdata over) as text
 * without the trailing dot. Returns bytes consumed, or -1. */
static int wire_name(const unsigned char *d, size_t len, char *out, size_t outlen)
{
    size_t i = 0, o = 0;
    while (i < len && d[i] != 0) {
        size_t l = d[i++];
        if (l > 63 || i + l > len || o + l + 2 > outlen)
            return -1;
        if (o)
            out[o++] = '.';
        memcpy(out + o, d + i, l);
        o += l;
        i += l;
    }
    if (i >= len)
        return -1;
    if (o == 0)
        out[o++] = '.'; /* the root */
    out[o] = '\0';
    return (int)i + 1;
}

int pm_dns_rdata_text(int rrtype, const unsigned char *d, size_t len, char *out, size_t outlen, int *pref)
{
    switch (rrtype) {
    case 1:
        return len == 4 && inet_ntop(AF_INET, d, out, (socklen_t)outlen) ? 0 : -1;
    case 28:
        return len == 16 && inet_ntop(AF_INET6, d, out, (socklen_t)outlen) ? 0 : -1;
    case 2: case 5: case 12: /* NS, CNAME, PTR */
        return wire_name(d, len, out, outlen) < 0 ? -1 : 0;
    case 15:
        if (len < 3)
            return -1;
        *pref = d[0] << 8 | d[1];
        return wire_name(d + 2, len - 2, out, outlen) < 0 ? -1 : 0;
    case 16: {
        size_t i = 0, o = 0;
        while (i < len) {
            size_t l = d[i++];
            if (i + l > len || o + l + 1 > outlen)
                return -1;
            memcpy(out + o, d + i, l);
            o += l;
            i += l;
        }
        out[o] = '\0';
        return 0;
    }
    }
    return -1;
}

static const struct { const char *name; int type; } types[] = {
    {"A", 1},   {"NS", 2},    {"CNAME", 5}, {"SOA", 6},  {"PTR", 12}, {"MX", 15},
    {"TXT", 16}, {"AAAA", 28}, {"SRV", 33},  {"TLSA", 52}, {"CAA", 257},
};

int pm_dns_type_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(name, types[i].name) == 0)
            return types[i].type;
    if (strncasecmp(name, "TYPE", 4) == 0 && name[4]) {
        char *end;
        long t = strtol(name + 4, &end, 10);
        if (*end == '\0' && t > 0 && t < 65536)
            return (int)t;
    }
    return -1;
}

const char *pm_dns_type_name(int rrtype)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].type == rrtype)
            return types[i].name;
    return "TYPE";
}

int pm_dns_reverse_name(const char *ip, const char *zone, char *out, size_t outlen)
{
    unsigned char a[16];
    size_t o = 0;
    int v4 = inet_pton(AF_INET, ip, a) == 1;
    int v6 = !v4 && inet_pton(AF_INET6, ip, a) == 1;
    if (v6 && IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a)) { /* ::ffff:192.0.2.1 is an IPv4 client */
        memmove(a, a + 12, 4);
        v4 = 1;
        v6 = 0;
    }
    if (v4) {
        o = (size_t)snprintf(out, outlen, "%u.%u.%u.%u.%s", a[3], a[2], a[1], a[0], zone ? zone : "in-addr.arpa");
    } else if (v6) {
        static const char hex[] = "0123456789abcdef";
        if (outlen < 65)
            return -1;
        for (int i = 15; i >= 0; i--) {
            out[o++] = hex[a[i] & 15];
            out[o++] = '.';
            out[o++] = hex[a[i] >> 4];
            out[o++] = '.';
        }
        o += (size_t)snprintf(out + o, outlen - o, "%s", zone ? zone : "ip6.arpa");
    } else {
        return -1;
    }
    return o < outlen ? 0 : -1;
}

int pm_dns_same_address(const char *x, const char *y)
{
    unsigned char a[16], b[16];
    if (inet_pton(AF_INET, x, a) == 1)
        return inet_pton(AF_INET, y, b) == 1 && memcmp(a, b, 4) == 0;
    if (inet_pton(AF_INET6, x, a) == 1)
        return inet_pton(AF_INET6, y, b) == 1 && memcmp(a, b, 16) == 0;
    return 0;
}
