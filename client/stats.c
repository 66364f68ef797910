/* stats: pmilter-client --stats URL, pmilter's metrics endpoint for a person on
 * a host without Prometheus (docs/metrics.md). Fetches the endpoint twice,
 * INTERVAL apart (libcurl), and prints sessions, messages by verdict with
 * their rate over the interval, handler runs per phase with p50/p99 from the
 * histogram (since start, interpolated within a bucket as Prometheus's
 * histogram_quantile does), errors by class, the VM pool, limits hit, DNS/KV
 * and memory. Single-threaded. DIAGNOSTICS: an endpoint that cannot be
 * fetched or that is not Prometheus text gives one line on stderr, exit 3. */
#include "stats.h"

#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cbuf.h"

typedef struct sample {
    char *name, *labels; /* labels: `a="x",b="y"` as sent, or "" */
    double value;
} sample_t;

typedef struct scrape {
    sample_t *s;
    size_t n;
} scrape_t;

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    return fwrite(data, size, n, arg) * size;
}

/* The body of GET url, or NULL with why in err. */
static char *fetch(const char *url, int timeout_ms, char *err)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE, 16L << 20);
    err[0] = '\0';
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    fclose(f);
    if (rc != CURLE_OK) {
        if (!err[0])
            snprintf(err, CURL_ERROR_SIZE, "%s", curl_easy_strerror(rc));
        free(text);
        return NULL;
    }
    return text;
}

/* One `name{labels} value` line into s; -1 if it is not one. */
static int parse_line(char *line, sample_t *s)
{
    char *p = line + strcspn(line, "{ ");
    char *labels = "";
    if (p == line || *p == '\0')
        return -1;
    if (*p == '{') {
        *p++ = '\0';
        labels = p;
        for (int quoted = 0; *p && (quoted || *p != '}'); p++)
            if (*p == '\\' && quoted && p[1])
                p++;
            else if (*p == '"')
                quoted = !quoted;
        if (*p != '}')
            return -1;
        *p++ = '\0';
    } else
        *p++ = '\0';
    char *end;
    s->value = strtod(p, &end);
    if (end == p)
        return -1;
    s->name = line;
    s->labels = labels;
    return 0;
}

/* Splits text (kept, modified) into samples; -1 with why in err if a line is
 * not the text format or nothing is in it. */
static int parse(char *text, scrape_t *out, char *err)
{
    out->n = 0;
    out->s = NULL;
    int lineno = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        lineno++;
        if (line[0] == '#' || line[0] == '\0')
            continue;
        out->s = xrealloc(out->s, (out->n + 1) * sizeof *out->s);
        if (parse_line(line, &out->s[out->n]) != 0) {
            snprintf(err, CURL_ERROR_SIZE, "line %d is not Prometheus text: %.60s", lineno, line);
            return -1;
        }
        out->n++;
    }
    if (out->n == 0 || strncmp(out->s[0].name, "pmilter_", 8) != 0) {
        snprintf(err, CURL_ERROR_SIZE, "no pmilter metrics in the answer");
        return -1;
    }
    return 0;
}

/* The value of label key in labels, into out ("" if absent). */
static const char *label(const char *labels, const char *key, char *out, size_t outlen)
{
    size_t klen = strlen(key), n = 0;
    out[0] = '\0';
    for (const char *p = labels; *p;) {
        const char *eq = strchr(p, '=');
        if (eq == NULL || eq[1] != '"')
            break;
        int match = (size_t)(eq - p) == klen && strncmp(p, key, klen) == 0;
        for (p = eq + 2; *p && *p != '"'; p++) {
            char c = *p;
            if (c == '\\' && p[1])
                c = *++p == 'n' ? '\n' : *p;
            if (match && n + 1 < outlen)
                out[n++] = c;
        }
        if (match) {
            out[n] = '\0';
            return out;
        }
        p += *p == '"';
        p += *p == ',';
    }
    return out;
}

/* The sum of samples called name whose label key is value (key NULL: all). */
static double sum(const scrape_t *sc, const char *name, const char *key, const char *value)
{
    double total = 0;
    char buf[128];
    for (size_t i = 0; i < sc->n; i++)
        if (strcmp(sc->s[i].name, name) == 0 && (!key || strcmp(label(sc->s[i].labels, key, buf, sizeof buf), value) == 0))
            total += sc->s[i].value;
    return total;
}

typedef struct {
    double le, count;
} bucket_t;

static int by_le(const void *a, const void *b)
{
    double x = ((const bucket_t *)a)->le, y = ((const bucket_t *)b)->le;
    return x < y ? -1 : x > y;
}

/* The q quantile of histogram name (its series with key=value, or the bare
 * one when key is NULL), in seconds; NAN without observations. */
static double quantile(const scrape_t *sc, const char *name, const char *key, const char *value, double q)
{
    char bucket_name[128], buf[128];
    snprintf(bucket_name, sizeof bucket_name, "%s_bucket", name);
    bucket_t b[64];
    int n = 0;
    for (size_t i = 0; i < sc->n && n < 64; i++) {
        if (strcmp(sc->s[i].name, bucket_name) != 0 || (key && strcmp(label(sc->s[i].labels, key, buf, sizeof buf), value) != 0))
            continue;
        const char *le = label(sc->s[i].labels, "le", buf, sizeof buf);
        b[n++] = (bucket_t){strcmp(le, "+Inf") == 0 ? INFINITY : strtod(le, NULL), sc->s[i].value};
    }
    qsort(b, (size_t)n, sizeof *b, by_le);
    if (n == 0 || b[n - 1].count <= 0)
        return NAN;
    double rank = q * b[n - 1].count;
    for (int i = 0; i < n; i++) {
        if (b[i].count < rank)
            continue;
        if (isinf(b[i].le)) /* in +Inf: the highest finite bound, as Prometheus answers */
            return i > 0 ? b[i - 1].le : NAN;
        double lower = i > 0 ? b[i - 1].le : 0, below = i > 0 ? b[i - 1].count : 0;
        return lower + (b[i].le - lower) * (rank - below) / (b[i].count - below);
    }
    return NAN;
}

/* "12.3 ms" for seconds (or "-"). */
static const char *duration(double s, char *buf, size_t len)
{
    if (isnan(s))
        snprintf(buf, len, "-");
    else if (s < 1e-3)
        snprintf(buf, len, "%.0f us", s * 1e6);
    else if (s < 1)
        snprintf(buf, len, "%.1f ms", s * 1e3);
    else
        snprintf(buf, len, "%.2f s", s);
    return buf;
}

/* Label values of name's samples for key, each once, in order of appearance. */
static int values_of(const scrape_t *sc, const char *name, const char *key, char out[][64], int max)
{
    int n = 0;
    char buf[64];
    for (size_t i = 0; i < sc->n && n < max; i++) {
        if (strcmp(sc->s[i].name, name) != 0)
            continue;
        label(sc->s[i].labels, key, buf, sizeof buf);
        int seen = 0;
        for (int j = 0; j < n && !seen; j++)
            seen = strcmp(out[j], buf) == 0;
        if (!seen)
            snprintf(out[n++], 64, "%s", buf);
    }
    return n;
}

static void print_messages(const scrape_t *a, const scrape_t *b, double interval)
{
    char verdict[16][64];
    int n = values_of(b, "pmilter_messages_total", "verdict", verdict, 16);
    printf("messages          total      /s\n");
    for (int i = 0; i < n; i++) {
        double now = sum(b, "pmilter_messages_total", "verdict", verdict[i]);
        printf("  %-12s %10.0f %7.1f\n", verdict[i], now, (now - sum(a, "pmilter_messages_total", "verdict", verdict[i])) / interval);
    }
    double all = sum(b, "pmilter_messages_total", NULL, NULL);
    printf("  %-12s %10.0f %7.1f\n", "all", all, (all - sum(a, "pmilter_messages_total", NULL, NULL)) / interval);
    char p50[32], p99[32];
    printf("message time (MAIL FROM to verdict): p50 %s, p99 %s\n",
           duration(quantile(b, "pmilter_message_duration_seconds", NULL, NULL, 0.5), p50, sizeof p50),
           duration(quantile(b, "pmilter_message_duration_seconds", NULL, NULL, 0.99), p99, sizeof p99));
}

static void print_handlers(const scrape_t *b)
{
    char phase[32][64], class[32][64];
    int n = values_of(b, "pmilter_handler_duration_seconds_count", "phase", phase, 32);
    printf("handlers            runs     p50      p99   errors\n");
    for (int i = 0; i < n; i++) {
        char p50[32], p99[32];
        printf("  %-12s %10.0f %8s %8s %8.0f\n", phase[i], sum(b, "pmilter_handler_duration_seconds_count", "phase", phase[i]),
               duration(quantile(b, "pmilter_handler_duration_seconds", "phase", phase[i], 0.5), p50, sizeof p50),
               duration(quantile(b, "pmilter_handler_duration_seconds", "phase", phase[i], 0.99), p99, sizeof p99),
               sum(b, "pmilter_handler_errors_total", "phase", phase[i]));
    }
    int m = values_of(b, "pmilter_handler_errors_total", "class", class, 32);
    for (int i = 0; i < m; i++)
        printf("  errors of class %s: %.0f\n", class[i], sum(b, "pmilter_handler_errors_total", "class", class[i]));
}

static void print_process(const scrape_t *b)
{
    printf("VM pool: %.0f VMs, %.0f busy, %.0f waits for a VM, %.0f replaced, %.0f watchdog kills\n",
           sum(b, "pmilter_vm_pool_size", NULL, NULL), sum(b, "pmilter_vm_pool_busy", NULL, NULL),
           sum(b, "pmilter_vm_pool_waits_total", NULL, NULL), sum(b, "pmilter_vm_replacements_total", NULL, NULL),
           sum(b, "pmilter_watchdog_kills_total", NULL, NULL));
    printf("reloads: %.0f ok, %.0f failed (configuration generation %.0f)\n",
           sum(b, "pmilter_reloads_total", "result", "ok"), sum(b, "pmilter_reloads_total", "result", "failed"),
           sum(b, "pmilter_config_generation", NULL, NULL));
    printf("limits hit:");
    int any = 0;
    char buf[64];
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->s[i].name, "pmilter_limits_hit_total") == 0 && b->s[i].value > 0)
            printf("%s %s %.0f", any++ ? "," : "", label(b->s[i].labels, "limit", buf, sizeof buf), b->s[i].value);
    printf("%s\n", any ? "" : " none");
    printf("DNS: %.0f queries (%.0f ok, %.0f not found, %.0f errors, %.0f timeouts), %.2f s waited\n",
           sum(b, "pmilter_dns_queries_total", NULL, NULL), sum(b, "pmilter_dns_answers_total", "status", "ok"),
           sum(b, "pmilter_dns_answers_total", "status", "notfound"), sum(b, "pmilter_dns_answers_total", "status", "error"),
           sum(b, "pmilter_dns_answers_total", "status", "timeout"), sum(b, "pmilter_dns_wait_seconds_total", NULL, NULL));
    printf("KV: %.0f calls, %.0f failed; MIME: %.0f parses\n", sum(b, "pmilter_kv_calls_total", NULL, NULL),
           sum(b, "pmilter_kv_errors_total", NULL, NULL), sum(b, "pmilter_mime_parses_total", NULL, NULL));
    printf("memory: %.1f MiB resident\n", sum(b, "pmilter_resident_memory_bytes", NULL, NULL) / (1 << 20));
}

/* Fetches and parses url into sc (keeping the text in *text). */
static int scrape(const char *url, int timeout_ms, scrape_t *sc, char **text)
{
    char err[CURL_ERROR_SIZE];
    *text = fetch(url, timeout_ms, err);
    if (*text == NULL || parse(*text, sc, err) != 0) {
        fprintf(stderr, "pmilter-client: %s: %s\n", url, err);
        return -1;
    }
    return 0;
}

int stats_run(const char *url, double interval, int timeout_ms)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    scrape_t a = {0}, b = {0};
    char *ta = NULL, *tb = NULL;
    int rc = 3;
    if (scrape(url, timeout_ms, &a, &ta) == 0) {
        struct timespec pause = {(time_t)interval, (long)((interval - (time_t)interval) * 1e9)};
        nanosleep(&pause, NULL);
        if (scrape(url, timeout_ms, &b, &tb) == 0) {
            printf("pmilter at %s (rates over %.1f s; times since start)\n", url, interval);
            printf("sessions: %.0f open, %.0f since start\n", sum(&b, "pmilter_sessions_open", NULL, NULL),
                   sum(&b, "pmilter_sessions_total", NULL, NULL));
            print_messages(&a, &b, interval);
            print_handlers(&b);
            print_process(&b);
            rc = 0;
        }
    }
    free(a.s);
    free(b.s);
    free(ta);
    free(tb);
    curl_global_cleanup();
    return rc;
}
