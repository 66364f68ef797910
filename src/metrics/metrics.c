/* metrics: the registry (see metrics.h). Built-in metrics are fixed arrays of
 * relaxed atomics, recorded from libmilter's worker threads, the watchdog and
 * the reload thread; the endpoint's thread reads them while rendering. The
 * ones every message and handler run records (messages, verdicts, durations,
 * busy VMs) are per thread: each thread adds to its own shard with plain
 * relaxed stores (no shared cache line, no locked instruction) and a rendering
 * sums the shards. Shards are never freed: a thread that ends leaves its
 * counts in its shard and hands it to the next new thread, which adds on
 * (libmilter starts and ends workers all the time: no allocation or fold each).
 * Custom series live in one list under custom_lock and are never freed. */
#include "metrics/metrics.h"

#include <libmilter/mfapi.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/config.h"
#include "dns/dns.h"
#include "kv/kv.h"
#include "mime/mime.h"
#include "metrics/metrics_internal.h"

static const double bucket_bound[PM_METRICS_BUCKETS] = {1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3,
                                                        2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                        0.5, 1, 2.5, 5, 10};
#define N_VERDICTS 16 /* SMFIS_* values are below this */
#define N_PHASES PM_PHASE_COUNT

typedef struct {
    atomic_ullong bucket[PM_METRICS_BUCKETS + 1]; /* not cumulative; the last is +Inf */
    atomic_ullong sum_ns, count;
} histogram_t;

static atomic_ullong sessions_total, reloads_ok, reloads_failed, watchdog_kills, vm_waits, vm_replaced;
static atomic_llong sessions_open;
static atomic_int vm_pool_size;

/* What each message and handler run records, one per thread. Written only by
 * its thread (relaxed load + store), read by renderings under shard_lock. */
typedef struct shard {
    struct shard *next;  /* every shard made */
    struct shard *spare; /* next on the spare list (its thread ended) */
    atomic_ullong messages[N_VERDICTS];
    atomic_ullong verdicts[N_PHASES][N_VERDICTS];
    histogram_t handler_seconds[N_PHASES];
    histogram_t message_seconds;
    atomic_llong vm_busy; /* this thread's borrows less its returns: 0 or 1 */
} shard_t;

_Static_assert(offsetof(shard_t, vm_busy) - offsetof(shard_t, messages) ==
                   sizeof(((shard_t *)0)->messages) + sizeof(((shard_t *)0)->verdicts) +
                       sizeof(((shard_t *)0)->handler_seconds) + sizeof(histogram_t),
               "shard_add walks the counters from messages to vm_busy as one array");

static pthread_mutex_t shard_lock = PTHREAD_MUTEX_INITIALIZER;
static shard_t *shards; /* every shard, under shard_lock */
static shard_t *spares; /* shards of ended threads, under shard_lock */
static pthread_key_t shard_key;
static pthread_once_t shard_once = PTHREAD_ONCE_INIT;
static _Thread_local shard_t *mine;

/* Handler errors by phase and exception class. Class names are kept in
 * arrival order, at most MAX_ERROR_CLASSES; later ones count as "other", so
 * a handler raising made-up classes cannot grow the scrape. Errors are rare:
 * one mutex is enough. */
#define MAX_ERROR_CLASSES 16
#define ERROR_CLASS_LEN 64
static pthread_mutex_t error_lock = PTHREAD_MUTEX_INITIALIZER;
static char error_class[MAX_ERROR_CLASSES + 1][ERROR_CLASS_LEN] = {"other"}; /* [0] is "other" */
static int n_error_classes = 1;
static unsigned long long handler_errors[N_PHASES][MAX_ERROR_CLASSES + 1]; /* under error_lock */

static const char *const limit_names[] = {"max_sessions",     "max_recipients", "max_headers",
                                          "max_header_bytes", "max_body_size",  "max_input_memory"};
#define N_LIMITS (sizeof limit_names / sizeof limit_names[0])
static atomic_ullong limits_hit[N_LIMITS];

#define RELAXED memory_order_relaxed
static void bump(atomic_ullong *c) { atomic_fetch_add_explicit(c, 1, RELAXED); }
static int verdict_index(int v) { return v >= 0 && v < N_VERDICTS ? v : N_VERDICTS - 1; }

/* Adds to a counter only the calling thread writes: no locked instruction. */
static void own_add(atomic_ullong *c, unsigned long long n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, RELAXED) + n, RELAXED);
}

/* Adds shard `from` into `to`, a rendering's sum; under shard_lock. */
static void shard_add(shard_t *to, shard_t *from)
{
    atomic_ullong *t = (atomic_ullong *)&to->messages, *f = (atomic_ullong *)&from->messages;
    /* every field from messages to vm_busy is a 64-bit counter */
    size_t n = (offsetof(shard_t, vm_busy) - offsetof(shard_t, messages)) / sizeof(atomic_ullong);
    for (size_t i = 0; i < n; i++)
        own_add(&t[i], atomic_load_explicit(&f[i], RELAXED));
    atomic_store_explicit(&to->vm_busy, atomic_load_explicit(&to->vm_busy, RELAXED) +
                                            atomic_load_explicit(&from->vm_busy, RELAXED), RELAXED);
}

static void shard_retire(void *arg)
{
    shard_t *s = arg;
    pthread_mutex_lock(&shard_lock);
    s->spare = spares;
    spares = s;
    pthread_mutex_unlock(&shard_lock);
    mine = NULL; /* a later recording in this thread's exit takes a shard again */
}

static void make_shard_key(void) { pthread_key_create(&shard_key, shard_retire); }

static shard_t *my_shard(void)
{
    if (mine)
        return mine;
    pthread_once(&shard_once, make_shard_key);
    pthread_mutex_lock(&shard_lock);
    shard_t *s = spares;
    if (s)
        spares = s->spare;
    else {
        s = pm_calloc(1, sizeof *s);
        s->next = shards;
        shards = s;
    }
    pthread_mutex_unlock(&shard_lock);
    pthread_setspecific(shard_key, s);
    return mine = s;
}

/* Every thread's counts so far, into *sum (zeroed by the caller). */
static void shards_sum(shard_t *sum)
{
    pthread_mutex_lock(&shard_lock);
    for (shard_t *s = shards; s; s = s->next)
        shard_add(sum, s);
    pthread_mutex_unlock(&shard_lock);
}

void pm_metrics_session_opened(void)
{
    bump(&sessions_total);
    atomic_fetch_add_explicit(&sessions_open, 1, RELAXED);
}
void pm_metrics_session_closed(void) { atomic_fetch_sub_explicit(&sessions_open, 1, RELAXED); }
void pm_metrics_verdict(pm_phase_t phase, int verdict) { own_add(&my_shard()->verdicts[phase][verdict_index(verdict)], 1); }
void pm_metrics_reload(int ok) { bump(ok ? &reloads_ok : &reloads_failed); }
void pm_metrics_vm_created(int vms) { atomic_fetch_add_explicit(&vm_pool_size, vms, RELAXED); }
void pm_metrics_vm_busy(int delta)
{
    shard_t *s = my_shard();
    atomic_store_explicit(&s->vm_busy, atomic_load_explicit(&s->vm_busy, RELAXED) + delta, RELAXED);
}
void pm_metrics_vm_wait(void) { bump(&vm_waits); }
void pm_metrics_vm_replaced(void) { bump(&vm_replaced); }
void pm_metrics_watchdog_kill(void) { bump(&watchdog_kills); }

/* The slot of class in error_class, added if there is room; under
 * error_lock. Quotes, backslashes and newlines become _, so the name needs
 * no escaping as a label value. */
static int error_class_index(const char *class)
{
    char name[ERROR_CLASS_LEN];
    snprintf(name, sizeof name, "%s", class && *class ? class : "other");
    for (char *c = name; *c; c++)
        if (*c == '"' || *c == '\\' || *c == '\n')
            *c = '_';
    for (int i = 0; i < n_error_classes; i++)
        if (strcmp(error_class[i], name) == 0)
            return i;
    if (n_error_classes > MAX_ERROR_CLASSES)
        return 0;
    memcpy(error_class[n_error_classes], name, sizeof name);
    return n_error_classes++;
}

void pm_metrics_handler_error(pm_phase_t phase, const char *class)
{
    pthread_mutex_lock(&error_lock);
    handler_errors[phase][error_class_index(class)]++;
    pthread_mutex_unlock(&error_lock);
}

void pm_metrics_totals(long long *open, unsigned long long *total)
{
    *open = atomic_load_explicit(&sessions_open, RELAXED);
    shard_t *sum = pm_calloc(1, sizeof *sum);
    shards_sum(sum);
    *total = 0;
    for (int v = 0; v < N_VERDICTS; v++)
        *total += atomic_load_explicit(&sum->messages[v], RELAXED);
    free(sum);
}

void pm_metrics_limit_hit(const char *limit)
{
    for (size_t i = 0; i < N_LIMITS; i++)
        if (strcmp(limit, limit_names[i]) == 0)
            bump(&limits_hit[i]);
}

static int bucket_of(double seconds)
{
    int i = 0;
    while (i < PM_METRICS_BUCKETS && seconds > bucket_bound[i])
        i++;
    return i;
}

/* Into the calling thread's own histogram h. */
static void observe(histogram_t *h, double seconds)
{
    own_add(&h->bucket[bucket_of(seconds)], 1);
    own_add(&h->sum_ns, (unsigned long long)(seconds * 1e9));
    own_add(&h->count, 1);
}

void pm_metrics_handler_ran(pm_phase_t phase, double seconds) { observe(&my_shard()->handler_seconds[phase], seconds); }

void pm_metrics_message(int verdict, double seconds)
{
    shard_t *s = my_shard();
    own_add(&s->messages[verdict_index(verdict)], 1);
    if (seconds >= 0)
        observe(&s->message_seconds, seconds);
}

/* ---- custom series ---- */

struct pm_series {
    struct pm_series *next;
    char kind, warned; /* warned: a drop of this family was logged */
    char *name, *labels; /* labels: rendered, `a="1",b="2"`, or "" */
    double value, sum;
    unsigned long long bucket[PM_METRICS_BUCKETS + 1], count;
};

static pthread_mutex_t custom_lock = PTHREAD_MUTEX_INITIALIZER;
static pm_series_t *custom; /* newest first */
static int custom_max_series = 100;
#define MAX_CUSTOM_SERIES 10000 /* all custom series together: new names cannot grow memory for ever */
static int n_custom, custom_full_warned;

void pm_metrics_set_max_series(int n) { custom_max_series = n; }

static int valid_name(const char *s, int metric)
{
    if (!*s || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
              (metric && *s == ':')))
            return 0;
    return 1;
}

/* `a="x",b="y"` with \\, \" and \n escaped, as the text format wants. */
static char *render_labels(const char *const *labels, int n)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    for (int i = 0; i < n; i++) {
        fprintf(f, "%s%s=\"", i ? "," : "", labels[2 * i]);
        for (const char *c = labels[2 * i + 1]; *c; c++)
            fputs(*c == '\\' ? "\\\\" : *c == '"' ? "\\\"" : *c == '\n' ? "\\n" : (char[2]){*c, 0}, f);
        fputc('"', f);
    }
    fclose(f);
    return out;
}

static int check_custom(char kind, const char *name, const char *const *labels, int n, char *err, size_t errlen)
{
    if (!valid_name(name, 1)) {
        snprintf(err, errlen, "invalid metric name \"%s\" (letters, digits, _ and :, not starting with a digit)", name);
        return -1;
    }
    if (strncmp(name, "pmilter_", 8) == 0) {
        snprintf(err, errlen, "metric name \"%s\": the pmilter_ prefix is reserved for pmilter's own metrics", name);
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (!valid_name(labels[2 * i], 0) || strncmp(labels[2 * i], "__", 2) == 0 ||
            (kind == 'h' && strcmp(labels[2 * i], "le") == 0)) {
            snprintf(err, errlen, "metric %s: invalid label name \"%s\"", name, labels[2 * i]);
            return -1;
        }
    return 0;
}

/* Looks name{labels} up, or adds it; under custom_lock. */
static pm_series_t *find_or_add(char kind, const char *name, char *rendered, int *dropped, char *err, size_t errlen)
{
    int in_family = 0;
    pm_series_t *family = NULL;
    for (pm_series_t *s = custom; s; s = s->next) {
        if (strcmp(s->name, name) != 0)
            continue;
        if (s->kind != kind) {
            snprintf(err, errlen, "metric %s was first used as a %s", name,
                     s->kind == 'c' ? "counter" : s->kind == 'g' ? "gauge" : "histogram");
            return NULL;
        }
        if (strcmp(s->labels, rendered) == 0)
            return s;
        family = s;
        in_family++;
    }
    if (in_family >= custom_max_series) {
        *dropped = 1;
        err[0] = '\0'; /* one log line per family: the rest are dropped silently */
        if (family->warned)
            return NULL;
        family->warned = 1;
        snprintf(err, errlen, "metric %s has %d label sets, the [metrics] max_series bound: {%s} and later new ones dropped", name,
                 in_family, rendered);
        return NULL;
    }
    if (n_custom >= MAX_CUSTOM_SERIES) {
        *dropped = 1;
        err[0] = '\0';
        if (!custom_full_warned)
            snprintf(err, errlen, "%d custom metric series exist, the most pmilter keeps: %s{%s} and later new "
                     "series dropped", n_custom, name, rendered);
        custom_full_warned = 1;
        return NULL;
    }
    n_custom++;
    pm_series_t *s = pm_calloc(1, sizeof *s);
    s->kind = kind;
    s->name = pm_strdup(name);
    s->labels = pm_strdup(rendered);
    s->next = custom;
    custom = s;
    return s;
}

pm_series_t *pm_metrics_series(char kind, const char *name, const char *const *labels, int n_labels, int *dropped,
                               char *err, size_t errlen)
{
    *dropped = 0;
    if (check_custom(kind, name, labels, n_labels, err, errlen) != 0)
        return NULL;
    char *rendered = render_labels(labels, n_labels);
    pthread_mutex_lock(&custom_lock);
    pm_series_t *s = find_or_add(kind, name, rendered, dropped, err, errlen);
    pthread_mutex_unlock(&custom_lock);
    free(rendered);
    return s;
}

char pm_metrics_kind(const pm_series_t *s) { return s->kind; }

void pm_metrics_add(pm_series_t *s, double v)
{
    pthread_mutex_lock(&custom_lock);
    s->value += v;
    pthread_mutex_unlock(&custom_lock);
}

void pm_metrics_set(pm_series_t *s, double v)
{
    pthread_mutex_lock(&custom_lock);
    s->value = v;
    pthread_mutex_unlock(&custom_lock);
}

void pm_metrics_observe(pm_series_t *s, double v)
{
    pthread_mutex_lock(&custom_lock);
    s->bucket[bucket_of(v)]++;
    s->sum += v;
    s->count++;
    pthread_mutex_unlock(&custom_lock);
}

/* ---- rendering ---- */

#define LOAD(x) atomic_load_explicit(&(x), RELAXED)

static void header(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One histogram's _bucket/_sum/_count lines; labels "" or `a="b",`. */
static void histogram_lines(FILE *f, const char *name, const char *labels, const unsigned long long *bucket,
                            double sum, unsigned long long count)
{
    unsigned long long cumulative = 0;
    for (int i = 0; i <= PM_METRICS_BUCKETS; i++) {
        cumulative += bucket[i];
        if (i < PM_METRICS_BUCKETS)
            fprintf(f, "%s_bucket{%sle=\"%g\"} %llu\n", name, labels, bucket_bound[i], cumulative);
        else
            fprintf(f, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, labels, cumulative);
    }
    int bare = labels[0] == '\0';
    size_t n = strlen(labels);
    fprintf(f, "%s_sum%s%.*s%s %.9g\n", name, bare ? "" : "{", (int)(bare ? 0 : n - 1), labels, bare ? "" : "}", sum);
    fprintf(f, "%s_count%s%.*s%s %llu\n", name, bare ? "" : "{", (int)(bare ? 0 : n - 1), labels, bare ? "" : "}",
            cumulative); /* not count: a sample recorded while rendering must not make +Inf and _count differ */
    (void)count;
}

static void render_verdicts(FILE *f, shard_t *sum)
{
    atomic_ullong *messages = sum->messages;
    atomic_ullong(*verdicts)[N_VERDICTS] = sum->verdicts;
    header(f, "pmilter_messages_total", "counter", "Messages by final verdict.");
    for (int v = 0; v < N_VERDICTS; v++)
        if (LOAD(messages[v]))
            fprintf(f, "pmilter_messages_total{verdict=\"%s\"} %llu\n", pm_config_verdict_name(v), LOAD(messages[v]));
    header(f, "pmilter_verdicts_total", "counter", "Handler answers by phase and verdict.");
    for (int p = 0; p < N_PHASES; p++)
        for (int v = 0; v < N_VERDICTS; v++)
            if (LOAD(verdicts[p][v]))
                fprintf(f, "pmilter_verdicts_total{phase=\"%s\",verdict=\"%s\"} %llu\n", pm_phase_name(p),
                        pm_config_verdict_name(v), LOAD(verdicts[p][v]));
    header(f, "pmilter_handler_errors_total", "counter",
           "Handler runs that raised or were stopped, by phase and exception class.");
    pthread_mutex_lock(&error_lock);
    for (int p = 0; p < N_PHASES; p++)
        for (int c = 0; c < n_error_classes; c++)
            if (handler_errors[p][c])
                fprintf(f, "pmilter_handler_errors_total{phase=\"%s\",class=\"%s\"} %llu\n", pm_phase_name(p),
                        error_class[c], handler_errors[p][c]);
    pthread_mutex_unlock(&error_lock);
}

/* A built-in histogram's lines; labels as for histogram_lines. */
static void atomic_histogram_lines(FILE *f, const char *name, const char *labels, histogram_t *h)
{
    unsigned long long bucket[PM_METRICS_BUCKETS + 1];
    for (int i = 0; i <= PM_METRICS_BUCKETS; i++)
        bucket[i] = LOAD(h->bucket[i]);
    histogram_lines(f, name, labels, bucket, LOAD(h->sum_ns) / 1e9, LOAD(h->count));
}

static void render_durations(FILE *f, shard_t *sum)
{
    histogram_t *handler_seconds = sum->handler_seconds;
    header(f, "pmilter_handler_duration_seconds", "histogram", "Time a handler ran, by phase.");
    for (int p = 0; p < N_PHASES; p++) {
        if (LOAD(handler_seconds[p].count) == 0)
            continue;
        char labels[64];
        snprintf(labels, sizeof labels, "phase=\"%s\",", pm_phase_name(p));
        atomic_histogram_lines(f, "pmilter_handler_duration_seconds", labels, &handler_seconds[p]);
    }
    header(f, "pmilter_message_duration_seconds", "histogram",
           "Time from a message's first callback (MAIL FROM) to its final verdict.");
    atomic_histogram_lines(f, "pmilter_message_duration_seconds", "", &sum->message_seconds);
}

static long rss_bytes(void)
{
    long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%*s %ld", &pages) != 1)
            pages = 0;
        fclose(f);
    }
    return pages * sysconf(_SC_PAGESIZE);
}

static void render_process(FILE *f)
{
    header(f, "pmilter_sessions_open", "gauge", "SMTP sessions open now.");
    fprintf(f, "pmilter_sessions_open %lld\n", LOAD(sessions_open));
    header(f, "pmilter_sessions_total", "counter", "SMTP sessions since start.");
    fprintf(f, "pmilter_sessions_total %llu\n", LOAD(sessions_total));
    header(f, "pmilter_reloads_total", "counter", "Configuration reloads by result.");
    fprintf(f, "pmilter_reloads_total{result=\"ok\"} %llu\n", LOAD(reloads_ok));
    fprintf(f, "pmilter_reloads_total{result=\"failed\"} %llu\n", LOAD(reloads_failed));
    header(f, "pmilter_config_generation", "gauge", "Configuration generation serving new sessions: 1 + successful reloads.");
    fprintf(f, "pmilter_config_generation %llu\n", LOAD(reloads_ok) + 1);
    header(f, "pmilter_watchdog_kills_total", "counter", "Handlers the watchdog gave up on (handler_timeout).");
    fprintf(f, "pmilter_watchdog_kills_total %llu\n", LOAD(watchdog_kills));
    header(f, "pmilter_resident_memory_bytes", "gauge", "Resident set size of the process.");
    fprintf(f, "pmilter_resident_memory_bytes %ld\n", rss_bytes());
}

static void render_vm_pool(FILE *f, shard_t *sum)
{
    header(f, "pmilter_vm_pool_size", "gauge", "mruby VMs that exist, in all configuration generations in use.");
    fprintf(f, "pmilter_vm_pool_size %d\n", atomic_load(&vm_pool_size));
    header(f, "pmilter_vm_pool_busy", "gauge", "mruby VMs running a handler now.");
    fprintf(f, "pmilter_vm_pool_busy %lld\n", LOAD(sum->vm_busy));
    header(f, "pmilter_vm_pool_waits_total", "counter", "Handler runs that found no idle VM and waited for one.");
    fprintf(f, "pmilter_vm_pool_waits_total %llu\n", LOAD(vm_waits));
    header(f, "pmilter_vm_replacements_total", "counter", "VMs retired (watchdog, out of memory or stack).");
    fprintf(f, "pmilter_vm_replacements_total %llu\n", LOAD(vm_replaced));
}

static void render_limits(FILE *f)
{
    static const char *const mime_limit[PM_MIME_LIMITS] = {"mime.max_depth", "mime.max_parts", "mime.max_decoded_size"};
    pm_mime_stats_t mime = pm_mime_stats();
    header(f, "pmilter_limits_hit_total", "counter", "Messages or sessions that reached a configured limit.");
    for (size_t i = 0; i < N_LIMITS; i++)
        fprintf(f, "pmilter_limits_hit_total{limit=\"%s\"} %llu\n", limit_names[i], LOAD(limits_hit[i]));
    for (int i = 0; i < PM_MIME_LIMITS; i++)
        fprintf(f, "pmilter_limits_hit_total{limit=\"%s\"} %llu\n", mime_limit[i], mime.limit_hit[i]);
}

/* The subsystems' own counters (src/dns, src/kv, src/mime). */
static void render_subsystems(FILE *f)
{
    static const char *const dns_status[PM_DNS_STATUSES] = {"ok", "notfound", "error", "timeout"};
    pm_dns_stats_t dns = pm_dns_stats();
    header(f, "pmilter_dns_queries_total", "counter", "Pmilter::DNS queries asked.");
    fprintf(f, "pmilter_dns_queries_total %llu\n", dns.queries);
    header(f, "pmilter_dns_answers_total", "counter", "Pmilter::DNS query outcomes by status.");
    for (int i = 0; i < PM_DNS_STATUSES; i++)
        fprintf(f, "pmilter_dns_answers_total{status=\"%s\"} %llu\n", dns_status[i], dns.status[i]);
    header(f, "pmilter_dns_wait_seconds_total", "counter", "Time handlers waited for DNS answers.");
    fprintf(f, "pmilter_dns_wait_seconds_total %.6f\n", dns.wait_us / 1e6);
    pm_kv_stats_t kv = pm_kv_stats();
    header(f, "pmilter_kv_calls_total", "counter", "Pmilter::KV calls.");
    fprintf(f, "pmilter_kv_calls_total %llu\n", kv.calls);
    header(f, "pmilter_kv_errors_total", "counter", "Pmilter::KV calls that failed.");
    fprintf(f, "pmilter_kv_errors_total %llu\n", kv.errors);
    header(f, "pmilter_kv_seconds_total", "counter", "Time spent in Pmilter::KV calls.");
    fprintf(f, "pmilter_kv_seconds_total %.6f\n", kv.latency_us / 1e6);
    header(f, "pmilter_kv_evictions_total", "counter", "Keys the memory backend evicted to stay under kv.memory_limit.");
    fprintf(f, "pmilter_kv_evictions_total %llu\n", kv.evicted);
    pm_mime_stats_t mime = pm_mime_stats();
    header(f, "pmilter_mime_parses_total", "counter", "Messages parsed for Session#mime.");
    fprintf(f, "pmilter_mime_parses_total %llu\n", mime.parses);
    header(f, "pmilter_mime_unparsable_total", "counter", "Messages GMime could not parse.");
    fprintf(f, "pmilter_mime_unparsable_total %llu\n", mime.unparsable);
    header(f, "pmilter_mime_seconds_total", "counter", "Time spent parsing MIME.");
    fprintf(f, "pmilter_mime_seconds_total %.6f\n", mime.ns / 1e9);
}

static void series_lines(FILE *f, const pm_series_t *t)
{
    if (t->kind == 'h') {
        char *labels = NULL;
        if (asprintf(&labels, "%s%s", t->labels, t->labels[0] ? "," : "") < 0)
            return;
        histogram_lines(f, t->name, labels, t->bucket, t->sum, t->count);
        free(labels);
    } else if (t->labels[0])
        fprintf(f, "%s{%s} %.17g\n", t->name, t->labels, t->value);
    else
        fprintf(f, "%s %.17g\n", t->name, t->value);
}

static int by_name(const void *a, const void *b)
{
    const pm_series_t *x = *(pm_series_t *const *)a, *y = *(pm_series_t *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->labels, y->labels);
}

/* Custom families by name, each series under its family's one header. */
static void render_custom(FILE *f)
{
    pthread_mutex_lock(&custom_lock);
    pm_series_t **sorted = pm_calloc((size_t)n_custom + 1, sizeof *sorted);
    int n = 0;
    for (pm_series_t *s = custom; s; s = s->next)
        sorted[n++] = s;
    qsort(sorted, (size_t)n, sizeof *sorted, by_name);
    for (int i = 0; i < n; i++) {
        pm_series_t *s = sorted[i];
        if (i == 0 || strcmp(sorted[i - 1]->name, s->name) != 0)
            header(f, s->name, s->kind == 'c' ? "counter" : s->kind == 'g' ? "gauge" : "histogram",
                   "Defined by a handler (Pmilter::Metrics).");
        series_lines(f, s);
    }
    pthread_mutex_unlock(&custom_lock);
    free(sorted);
}

char *pm_metrics_render(size_t *len)
{
    char *out = NULL;
    FILE *f = open_memstream(&out, len);
    shard_t *sum = pm_calloc(1, sizeof *sum);
    shards_sum(sum);
    render_verdicts(f, sum);
    render_durations(f, sum);
    render_process(f);
    render_vm_pool(f, sum);
    free(sum);
    render_limits(f);
    render_subsystems(f);
    render_custom(f);
    fclose(f);
    return out;
}
