/*++
 * load - load generator for milters
 *
 * One thread per connection. The message (envfrom .. eom, with macros) is encoded
 * once per connection into a template of segments, honouring what the milter
 * negotiated; each message then costs memcpy + the system calls the protocol
 * needs, with no allocation. Latency is envfrom sent to eom verdict read, kept
 * in a per-thread preallocated array (reservoir sampling once it is full; the
 * maximum is always exact). Threads share only read-only data until they are joined.
 *--*/
#include "load.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cbuf.h"
#include "json.h"
#include "milter_proto.h"

#define SAMPLE_BUDGET (4u << 20) /* latency samples kept across all threads */

typedef struct {
    int phase;       /* MC_* */
    size_t off, len; /* bytes in the template */
} seg_t;

typedef struct {
    const load_opts_t *o;
    const char *const *hdr; /* shared, read-only: name, value pairs */
    const char *body;       /* shared, read-only */
    size_t body_len;
    struct timespec deadline;
    uint32_t *lat;          /* owned; ns, capped at UINT32_MAX */
    size_t nlat, cap;
    uint64_t seen;          /* latency samples offered */
    uint64_t max_ns;
    uint64_t rng;
    unsigned long msgs, conns, errors, mods, refused_conns;
    unsigned long verdicts[MCV_SKIP + 1];
    char first_error[512];
} worker_t;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void count_mod(void *arg, const mc_action_t *a)
{
    (void)a;
    ((worker_t *)arg)->mods++;
}

static void record(worker_t *w, uint64_t ns)
{
    if (ns > w->max_ns)
        w->max_ns = ns;
    uint32_t v = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
    w->seen++;
    if (w->nlat < w->cap) {
        w->lat[w->nlat++] = v;
        return;
    }
    w->rng ^= w->rng << 13, w->rng ^= w->rng >> 7, w->rng ^= w->rng << 17;
    uint64_t j = w->rng % w->seen;
    if (j < w->cap)
        w->lat[j] = v;
}

static void error(worker_t *w, const char *why)
{
    w->errors++;
    if (!w->first_error[0])
        strcpy(w->first_error, why); /* both 512 bytes (mc_conn_t.err) */
}

/* Appends macros + command of one phase to the template as one segment, unless the milter skips it. */
static void add_seg(mc_conn_t *c, cbuf_t *t, seg_t *segs, size_t *n, int phase, const char *const *mac, size_t nmac,
                    const char *const *strs, size_t nstr, const char *raw, size_t rawlen)
{
    if (mc_skipped(c, phase))
        return;
    size_t save = c->out.len;
    if (nmac)
        mc_macros(c, phase, mac, nmac);
    size_t at = mc_begin(c, mc_phase_cmd(phase));
    for (size_t i = 0; i < nstr; i++)
        cbuf_putsz(&c->out, strs[i]);
    if (rawlen)
        cbuf_put(&c->out, raw, rawlen);
    mc_end(c, at);
    segs[*n].phase = phase;
    segs[*n].off = t->len;
    segs[*n].len = c->out.len - save;
    cbuf_put(t, c->out.p + save, c->out.len - save);
    c->out.len = save;
    (*n)++;
}

/* One message from the template; returns 0, or -1 on a protocol error (connection unusable). */
static int one_message(worker_t *w, mc_conn_t *c, const cbuf_t *t, const seg_t *segs, size_t nseg)
{
    uint64_t t0 = now_ns();
    int v = MCV_CONTINUE;
    for (size_t i = 0; i < nseg; i++) {
        cbuf_put(&c->out, t->p + segs[i].off, segs[i].len);
        v = mc_reply(c, segs[i].phase, segs[i].phase == MC_EOM ? count_mod : NULL, w);
        if (v < 0)
            return -1;
        if (v == MCV_SKIP) { /* jump to eom */
            while (i + 1 < nseg && segs[i + 1].phase == MC_BODY)
                i++;
            v = MCV_CONTINUE;
            continue;
        }
        if (v == MCV_NOREPLY || v == MCV_CONTINUE)
            continue;
        if (segs[i].phase != MC_EOM)
            mc_abort(c); /* sent with the next message */
        break;
    }
    record(w, now_ns() - t0);
    if (v == MCV_NOREPLY || v == MCV_NONE)
        v = MCV_CONTINUE;
    w->verdicts[v]++;
    w->msgs++;
    return 0;
}

static int past(const struct timespec *d)
{
    struct timespec n;
    clock_gettime(CLOCK_MONOTONIC, &n);
    return n.tv_sec > d->tv_sec || (n.tv_sec == d->tv_sec && n.tv_nsec >= d->tv_nsec);
}

static void *worker(void *arg)
{
    worker_t *w = arg;
    const load_opts_t *o = w->o;
    mc_conn_t c;
    cbuf_t t = {0};
    size_t nchunks = (w->body_len + MC_CHUNK - 1) / MC_CHUNK;
    seg_t *segs = xmalloc(((size_t)o->headers + nchunks + 8) * sizeof *segs);
    char qid[32];
    snprintf(qid, sizeof qid, "L%lX", (unsigned long)(uintptr_t)w & 0xffffff);
    const char *from_bare = o->from + 1, *to_bare = o->to + 1; /* "<x>": macros want x */
    char fb[512], tb[512];
    snprintf(fb, sizeof fb, "%.*s", (int)strlen(from_bare) - 1, from_bare);
    snprintf(tb, sizeof tb, "%.*s", (int)strlen(to_bare) - 1, to_bare);
    mc_init(&c, o->timeout_ms);

    while (!past(&w->deadline)) {
        if (mc_open(&c, o->spec) < 0 || mc_negotiate(&c, MC_ALL_ACTIONS, MC_ALL_PROTO) < 0) {
            error(w, c.err);
            mc_disconnect(&c);
            usleep(10000); /* a refusing milter must not make us spin */
            continue;
        }
        w->conns++;
        /* connect + helo, once per connection */
        const char *cmac[] = {"j", "mx.load.test", "{daemon_name}", "pmilter-client", "_", "localhost [127.0.0.1]",
                              "{client_addr}", "127.0.0.1", "{client_name}", "localhost"};
        int v = MCV_CONTINUE;
        if (!mc_skipped(&c, MC_CONNECT)) {
            mc_macros(&c, MC_CONNECT, cmac, 5);
            size_t at = mc_begin(&c, 'C');
            cbuf_putsz(&c.out, "localhost");
            cbuf_putc(&c.out, '4');
            cbuf_put_u16(&c.out, 40000);
            cbuf_putsz(&c.out, "127.0.0.1");
            mc_end(&c, at);
            v = mc_reply(&c, MC_CONNECT, NULL, NULL);
        }
        if ((v == MCV_CONTINUE || v == MCV_NOREPLY || v == MCV_NONE) && !mc_skipped(&c, MC_HELO)) {
            mc_queue(&c, 'H', "localhost", 10);
            v = mc_reply(&c, MC_HELO, NULL, NULL);
        }
        if (v < 0) {
            error(w, c.err);
            mc_disconnect(&c);
            continue;
        }
        if (v != MCV_CONTINUE && v != MCV_NOREPLY && v != MCV_NONE) {
            w->refused_conns++; /* the milter refused or accepted the whole connection */
            mc_disconnect(&c);
            continue;
        }
        /* the message template for what this milter negotiated */
        size_t nseg = 0;
        t.len = 0;
        const char *fmac[] = {"i", qid, "{mail_addr}", fb, "{mail_mailer}", "smtp"};
        const char *rmac[] = {"i", qid, "{rcpt_addr}", tb, "{rcpt_mailer}", "smtp"};
        const char *imac[] = {"i", qid};
        add_seg(&c, &t, segs, &nseg, MC_ENVFROM, fmac, 3, &o->from, 1, NULL, 0);
        add_seg(&c, &t, segs, &nseg, MC_ENVRCPT, rmac, 3, &o->to, 1, NULL, 0);
        add_seg(&c, &t, segs, &nseg, MC_DATA, imac, 1, NULL, 0, NULL, 0);
        for (int i = 0; i < o->headers; i++)
            add_seg(&c, &t, segs, &nseg, MC_HEADER, NULL, 0, w->hdr + 2 * i, 2, NULL, 0);
        add_seg(&c, &t, segs, &nseg, MC_EOH, imac, 1, NULL, 0, NULL, 0);
        for (size_t off = 0; off < w->body_len; off += MC_CHUNK)
            add_seg(&c, &t, segs, &nseg, MC_BODY, NULL, 0, NULL, 0, w->body + off,
                    w->body_len - off < MC_CHUNK ? w->body_len - off : MC_CHUNK);
        add_seg(&c, &t, segs, &nseg, MC_EOM, imac, 1, NULL, 0, NULL, 0);

        int bad = 0;
        for (int m = 0; m < o->msgs && !past(&w->deadline); m++)
            if (one_message(w, &c, &t, segs, nseg) < 0) {
                error(w, c.err);
                bad = 1;
                break;
            }
        if (bad) { /* don't send QUIT into a broken stream */
            c.out.len = 0;
        }
        mc_disconnect(&c);
    }
    mc_close(&c);
    cbuf_free(&t);
    free(segs);
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

int load_run(const load_opts_t *o)
{
    /* Shared message: headers and a body of CRLF lines, built once. */
    char **hdr = xmalloc(2 * (size_t)(o->headers ? o->headers : 1) * sizeof *hdr);
    const char *std[][2] = {{"From", o->from}, {"To", o->to}, {"Subject", "pmilter-client load test"},
                            {"Date", "Mon, 1 Jan 2024 00:00:00 +0000"}, {"Message-ID", "<load@pmilter-client.test>"}};
    for (int i = 0; i < o->headers; i++) {
        if (i < 5) {
            hdr[2 * i] = xstrdup(std[i][0]);
            hdr[2 * i + 1] = xstrdup(std[i][1]);
        } else {
            char n[32], v[64];
            snprintf(n, sizeof n, "X-Load-%d", i - 4);
            snprintf(v, sizeof v, "header value number %d for the load test", i - 4);
            hdr[2 * i] = xstrdup(n);
            hdr[2 * i + 1] = xstrdup(v);
        }
    }
    char *body = xmalloc(o->body_bytes + 1);
    for (size_t i = 0; i < o->body_bytes; i++) {
        size_t col = i % 78;
        body[i] = col == 76 ? '\r' : col == 77 ? '\n' : (char)('a' + (i / 78 + col) % 26);
    }

    worker_t *w = xmalloc((size_t)o->conns * sizeof *w);
    pthread_t *th = xmalloc((size_t)o->conns * sizeof *th);
    size_t cap = SAMPLE_BUDGET / (size_t)o->conns;
    if (cap < 65536)
        cap = 65536;
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    uint64_t start = now_ns();
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)o->seconds;
    deadline.tv_nsec += (long)((o->seconds - (double)(time_t)o->seconds) * 1e9);
    if (deadline.tv_nsec >= 1000000000L)
        deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;
    int started = 0;
    for (int i = 0; i < o->conns; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].o = o;
        w[i].hdr = (const char *const *)hdr;
        w[i].body = body;
        w[i].body_len = o->body_bytes;
        w[i].deadline = deadline;
        w[i].cap = cap;
        w[i].lat = xmalloc(cap * sizeof *w[i].lat);
        w[i].rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)(i + 1) * 0x100000001b3ull;
        if (pthread_create(&th[i], NULL, worker, &w[i]) != 0) {
            fprintf(stderr, "pmilter-client: cannot start thread %d\n", i);
            free(w[i].lat);
            break;
        }
        started++;
    }
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    double elapsed = (double)(now_ns() - start) / 1e9;
    getrusage(RUSAGE_SELF, &ru1);

    /* Merge. */
    unsigned long msgs = 0, conns = 0, errors = 0, mods = 0, refused = 0, verdicts[MCV_SKIP + 1] = {0};
    size_t nlat = 0;
    uint64_t max_ns = 0;
    const char *first_error = NULL;
    for (int i = 0; i < started; i++) {
        msgs += w[i].msgs, conns += w[i].conns, errors += w[i].errors, mods += w[i].mods, refused += w[i].refused_conns;
        for (int v = 0; v <= MCV_SKIP; v++)
            verdicts[v] += w[i].verdicts[v];
        nlat += w[i].nlat;
        if (w[i].max_ns > max_ns)
            max_ns = w[i].max_ns;
        if (!first_error && w[i].first_error[0])
            first_error = w[i].first_error;
    }
    uint32_t *all = xmalloc((nlat ? nlat : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < started; i++) {
        memcpy(all + k, w[i].lat, w[i].nlat * sizeof *all);
        k += w[i].nlat;
    }
    qsort(all, nlat, sizeof *all, cmp_u32);
    double p50 = nlat ? all[(nlat - 1) * 50 / 100] / 1e6 : 0, p99 = nlat ? all[(nlat - 1) * 99 / 100] / 1e6 : 0;
    double maxms = (double)max_ns / 1e6;
    double user = tv_s(ru1.ru_utime) - tv_s(ru0.ru_utime), sys = tv_s(ru1.ru_stime) - tv_s(ru0.ru_stime);
    double rate = elapsed > 0 ? (double)msgs / elapsed : 0;
    double cpu_us = msgs ? (user + sys) * 1e6 / (double)msgs : 0;

    cbuf_t out = {0};
    if (o->json) {
        cbuf_puts(&out, "{\"milter\":");
        json_str(&out, o->spec);
        cbuf_printf(&out,
                    ",\"conns\":%d,\"msgs_per_conn\":%d,\"body_bytes\":%zu,\"headers\":%d,\"seconds\":%.3f,"
                    "\"messages\":%lu,\"connections\":%lu,\"msgs_per_sec\":%.1f,"
                    "\"latency_ms\":{\"p50\":%.4f,\"p99\":%.4f,\"max\":%.4f},"
                    "\"verdicts\":{\"continue\":%lu,\"accept\":%lu,\"reject\":%lu,\"tempfail\":%lu,\"discard\":%lu},"
                    "\"refused_connections\":%lu,\"modifications\":%lu,\"errors\":%lu,\"first_error\":",
                    o->conns, o->msgs, o->body_bytes, o->headers, elapsed, msgs, conns, rate, p50, p99, maxms,
                    verdicts[MCV_CONTINUE], verdicts[MCV_ACCEPT], verdicts[MCV_REJECT], verdicts[MCV_TEMPFAIL],
                    verdicts[MCV_DISCARD], refused, mods, errors);
        json_str(&out, first_error);
        cbuf_printf(&out, ",\"cpu_s\":{\"user\":%.3f,\"sys\":%.3f,\"total\":%.3f},\"cpu_us_per_msg\":%.2f}\n", user, sys,
                    user + sys, cpu_us);
    } else {
        cbuf_printf(&out, "milter:     %s, %d connections x %d messages, %d headers, %zu body bytes\n", o->spec, o->conns,
                    o->msgs, o->headers, o->body_bytes);
        cbuf_printf(&out, "messages:   %lu in %.2f s = %.1f msg/s (%lu connections)\n", msgs, elapsed, rate, conns);
        cbuf_printf(&out, "latency:    p50 %.3f ms, p99 %.3f ms, max %.3f ms (envfrom to eom reply)\n", p50, p99, maxms);
        cbuf_printf(&out, "verdicts:   continue %lu, accept %lu, reject %lu, tempfail %lu, discard %lu; modifications %lu\n",
                    verdicts[MCV_CONTINUE], verdicts[MCV_ACCEPT], verdicts[MCV_REJECT], verdicts[MCV_TEMPFAIL],
                    verdicts[MCV_DISCARD], mods);
        if (refused)
            cbuf_printf(&out, "refused:    %lu connections refused/accepted at connect or helo\n", refused);
        cbuf_printf(&out, "errors:     %lu%s%s\n", errors, first_error ? ", first: " : "", first_error ? first_error : "");
        cbuf_printf(&out, "client cpu: %.3f s (user %.3f, sys %.3f) = %.2f us/message\n", user + sys, user, sys, cpu_us);
    }
    fwrite(out.p, 1, out.len, stdout);
    cbuf_free(&out);

    for (int i = 0; i < started; i++)
        free(w[i].lat);
    free(all);
    free(w);
    free(th);
    for (int i = 0; i < o->headers; i++) {
        free(hdr[2 * i]);
        free(hdr[2 * i + 1]);
    }
    free(hdr);
    free(body);
    return errors || !msgs || started < o->conns ? 3 : 0;
}
