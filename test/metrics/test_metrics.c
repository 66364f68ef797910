/* Unit tests for src/metrics from C, without mruby or HTTP: histogram bucket
 * edges, exact counts from many threads, custom names and label checks, the
 * max_series bound and its one log line, label value escaping. */
#include <libmilter/mfapi.h>
#include <pthread.h>
#include <stdlib.h>

#include "metrics/metrics.h"
#include "metrics/metrics_internal.h"
#include "../unit/unit.h"

static char *text;

/* Does the current rendering have this exact line? */
static int has_line(const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p += n)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return 1;
    return 0;
}

static void render(void)
{
    size_t len;
    free(text);
    text = pm_metrics_render(&len);
}

static void *reject_many(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000; i++)
        pm_metrics_message(SMFIS_REJECT, 0.001);
    return NULL;
}

/* Per-thread shards: counts of threads still alive (parked on the barrier)
 * are in a rendering, and stay exact once those threads end. */
static pthread_barrier_t recorded, rendered;

static void *record_and_park(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        pm_metrics_handler_ran(PM_PHASE_EOM, 0.0001);
        pm_metrics_verdict(PM_PHASE_EOM, SMFIS_TEMPFAIL);
    }
    pm_metrics_vm_busy(1); /* still holding a VM while parked */
    pthread_barrier_wait(&recorded);
    pthread_barrier_wait(&rendered);
    pm_metrics_vm_busy(-1);
    return NULL;
}

static pm_series_t *series(char kind, const char *name, const char *k, const char *v, int *dropped, char *err)
{
    const char *labels[] = {k, v};
    return pm_metrics_series(kind, name, labels, k ? 1 : 0, dropped, err, 256);
}

int main(void)
{
    pm_metrics_handler_ran(PM_PHASE_ENVFROM, 1e-5);
    pm_metrics_handler_ran(PM_PHASE_ENVFROM, 11);
    render();
    CHECK("metrics unit: 10 us is in the le=1e-05 bucket",
          has_line("pmilter_handler_duration_seconds_bucket{phase=\"envfrom\",le=\"1e-05\"} 1"));
    CHECK("metrics unit: 11 s is only in +Inf",
          has_line("pmilter_handler_duration_seconds_bucket{phase=\"envfrom\",le=\"10\"} 1") &&
              has_line("pmilter_handler_duration_seconds_bucket{phase=\"envfrom\",le=\"+Inf\"} 2"));
    CHECK("metrics unit: histogram count", has_line("pmilter_handler_duration_seconds_count{phase=\"envfrom\"} 2"));

    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, reject_many, NULL);
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    render();
    CHECK("metrics unit: 8 threads x 100000 counted exactly", has_line("pmilter_messages_total{verdict=\"reject\"} 800000"));

    pthread_barrier_init(&recorded, NULL, 5);
    pthread_barrier_init(&rendered, NULL, 5);
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, record_and_park, NULL);
    pthread_barrier_wait(&recorded);
    render();
    CHECK("metrics unit: live threads' counts are summed", has_line("pmilter_handler_duration_seconds_count{phase=\"eom\"} 4000") &&
                                                                 has_line("pmilter_verdicts_total{phase=\"eom\",verdict=\"tempfail\"} 4000"));
    CHECK("metrics unit: VMs busy in live threads", has_line("pmilter_vm_pool_busy 4"));
    pthread_barrier_wait(&rendered);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    render();
    CHECK("metrics unit: ended threads' counts stay exact", has_line("pmilter_handler_duration_seconds_count{phase=\"eom\"} 4000") &&
                                                                has_line("pmilter_verdicts_total{phase=\"eom\",verdict=\"tempfail\"} 4000") &&
                                                                has_line("pmilter_vm_pool_busy 0"));

    int dropped;
    char err[256];
    CHECK("metrics unit: a name starting with a digit is refused", !series('c', "9x", NULL, NULL, &dropped, err) && !dropped);
    CHECK("metrics unit: a name with - is refused", !series('c', "a-b", NULL, NULL, &dropped, err) && !dropped);
    CHECK("metrics unit: the pmilter_ prefix is reserved", !series('c', "pmilter_x", NULL, NULL, &dropped, err));
    CHECK("metrics unit: a __ label is refused", !series('c', "x_total", "__k", "v", &dropped, err) && !dropped);
    CHECK("metrics unit: le on a histogram is refused", !series('h', "h", "le", "1", &dropped, err) && !dropped);
    CHECK("metrics unit: a valid counter", series('c', "x_total", "k", "v", &dropped, err) != NULL);
    CHECK("metrics unit: the same name as another kind is refused",
          !series('g', "x_total", "k", "v", &dropped, err) && !dropped && strstr(err, "first used as a counter"));

    pm_metrics_set_max_series(2);
    pm_series_t *a = series('c', "bounded_total", "k", "a", &dropped, err);
    pm_series_t *b = series('c', "bounded_total", "k", "b", &dropped, err);
    pm_series_t *c = series('c', "bounded_total", "k", "c", &dropped, err);
    CHECK("metrics unit: the next one dropped, with a line to log", !c && dropped && strstr(err, "max_series"));
    CHECK("metrics unit: max_series label sets kept", a && b && series('c', "bounded_total", "k", "a", &dropped, err) == a);
    CHECK("metrics unit: later drops log nothing", !series('c', "bounded_total", "k", "d", &dropped, err) && dropped && !err[0]);

    pm_series_t *g = series('g', "escaped", "k", "a\\b\"c\nd", &dropped, err);
    pm_metrics_set(g, 3);
    pm_metrics_add(g, -1);
    pm_metrics_add(a, 2);
    render();
    CHECK("metrics unit: label values escaped", has_line("escaped{k=\"a\\\\b\\\"c\\nd\"} 2"));
    CHECK("metrics unit: one TYPE line per family", strstr(text, "# TYPE bounded_total counter") &&
                                                        !strstr(strstr(text, "# TYPE bounded_total") + 1, "# TYPE bounded_total"));
    CHECK("metrics unit: a counter adds", has_line("bounded_total{k=\"a\"} 2"));

    /* Error classes: 16 kept, the rest "other"; quotes made harmless. */
    char class[32];
    for (int i = 0; i < 20; i++) {
        snprintf(class, sizeof class, "Err%d", i);
        pm_metrics_handler_error(PM_PHASE_EOM, class);
    }
    pm_metrics_handler_error(PM_PHASE_EOM, "Err0");
    render();
    CHECK("metrics unit: a kept error class counts", has_line("pmilter_handler_errors_total{phase=\"eom\",class=\"Err0\"} 2"));
    CHECK("metrics unit: the 16th class is kept", has_line("pmilter_handler_errors_total{phase=\"eom\",class=\"Err15\"} 1"));
    CHECK("metrics unit: classes past 16 count as other",
          has_line("pmilter_handler_errors_total{phase=\"eom\",class=\"other\"} 4") && !strstr(text, "Err16"));
    free(text);
    return unit_failures != 0;
}
