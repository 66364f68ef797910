/* metrics: the process-wide registry of counters, gauges and histograms, and
 * the Prometheus endpoint that shows them (docs/metrics.md). Created at start
 * and kept across reloads (DESIGN.md decision 9). Built-in metrics are
 * lock-free atomics, so any thread may call the pm_metrics_* recorders;
 * custom metrics (Pmilter::Metrics) take one mutex. */
#ifndef PM_METRICS_H
#define PM_METRICS_H

#include <stddef.h>

#include "core/phase.h"

/* Histogram upper bounds, in seconds: 10 µs .. 10 s (plus +Inf). */
#define PM_METRICS_BUCKETS 19

/* Serves GET /metrics on listen ("host:port"); NULL: metrics off.
 * max_series bounds the label sets of each custom metric. 0 or -1 + err. */
int pm_metrics_start(const char *listen, int max_series, char *err, size_t errlen);
void pm_metrics_stop(void);

/* Built-in recorders (one call per instrumentation point). */
void pm_metrics_session_opened(void);
void pm_metrics_session_closed(void);
/* A message's final verdict (SMFIS_*) and the seconds from its first
 * callback (MAIL FROM) to that verdict; seconds < 0: not timed. */
void pm_metrics_message(int verdict, double seconds);
void pm_metrics_verdict(pm_phase_t phase, int verdict);   /* what a handler answered */
/* A handler run that failed; class: the exception's class name, or
 * "timeout" / "no_vm". The first 16 distinct classes are kept, the rest
 * count as "other". */
void pm_metrics_handler_error(pm_phase_t phase, const char *class);
void pm_metrics_handler_ran(pm_phase_t phase, double seconds);
void pm_metrics_reload(int ok);
void pm_metrics_vm_created(int vms);  /* VMs added to a pool (-n: removed), summed over live generations */
void pm_metrics_vm_busy(int delta);   /* +1 when a handler borrows a VM, -1 when it is done with it */
void pm_metrics_vm_wait(void);        /* a borrow found no idle VM and had to wait */
void pm_metrics_vm_replaced(void);    /* a VM retired (watchdog, out of memory or stack) */
void pm_metrics_watchdog_kill(void);
void pm_metrics_limit_hit(const char *limit);             /* e.g. "max_recipients" */
/* For sd_notify's STATUS line: sessions open now, messages since start. */
void pm_metrics_totals(long long *sessions_open, unsigned long long *messages);

/* Custom metrics from handlers. kind: 'c' counter, 'g' gauge, 'h' histogram.
 * labels: pairs of name, value (n_labels pairs). Returns the series, kept for
 * the life of the process; or NULL with *dropped = 0 and the reason in err
 * (bad name, a kind other than the first use's); or NULL with *dropped = 1
 * when the bound (max_series per metric, 10000 in all) is reached: err then
 * holds a line to log, or "" when this metric's drop was logged already. */
typedef struct pm_series pm_series_t;
pm_series_t *pm_metrics_series(char kind, const char *name, const char *const *labels, int n_labels, int *dropped,
                               char *err, size_t errlen);
char pm_metrics_kind(const pm_series_t *s);
void pm_metrics_add(pm_series_t *s, double v);     /* counter inc (v >= 0), gauge add */
void pm_metrics_set(pm_series_t *s, double v);     /* gauge */
void pm_metrics_observe(pm_series_t *s, double v); /* histogram */

/* The exposition text (for tests and the endpoint); malloc'd. */
char *pm_metrics_render(size_t *len);

#endif
