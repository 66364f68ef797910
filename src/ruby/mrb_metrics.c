/* mrb_metrics: Pmilter::Metrics, custom metrics from handlers (docs/metrics.md).
 * counter/gauge/histogram(name, labels = {}) return a Pmilter::Metrics::Series
 * bound to one series of the process-wide registry (src/metrics), which
 * outlives every VM. A bad name raises ArgumentError; a label set beyond
 * [metrics] max_series is logged once per metric and its samples dropped.
 * Threads: the thread that holds the VM. */
#include <mruby.h>
#include <mruby/class.h>
#include <mruby/data.h>
#include <mruby/hash.h>
#include <mruby/array.h>
#include <mruby/string.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "metrics/metrics.h"
#include "ruby/mrb_init.h"

#define MAX_LABELS 8
#define MAX_LABEL_VALUE 256

/* The registry's series; NULL for one dropped by the cardinality bound. */
static const mrb_data_type series_type = {"Pmilter::Metrics::Series", NULL};

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* labels (a Hash) as sorted name, value pairs of C strings kept alive by the
 * Ruby strings in the VM's arena until the method returns. */
static int label_pairs(mrb_state *mrb, mrb_value labels, const char **pairs)
{
    if (mrb_nil_p(labels))
        return 0;
    if (!mrb_hash_p(labels))
        mrb_raise(mrb, E_ARGUMENT_ERROR, "metric labels must be a Hash (name: value)");
    mrb_value keys = mrb_hash_keys(mrb, labels);
    int n = (int)RARRAY_LEN(keys);
    if (n > MAX_LABELS)
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "a metric may have at most %d labels", MAX_LABELS);
    for (int i = 0; i < n; i++) {
        mrb_value k = mrb_ary_ref(mrb, keys, i);
        mrb_value v = mrb_obj_as_string(mrb, mrb_hash_get(mrb, labels, k));
        if (RSTRING_LEN(v) > MAX_LABEL_VALUE)
            mrb_raisef(mrb, E_ARGUMENT_ERROR, "metric label value longer than %d bytes", MAX_LABEL_VALUE);
        pairs[2 * i] = mrb_str_to_cstr(mrb, mrb_obj_as_string(mrb, k));
        pairs[2 * i + 1] = mrb_str_to_cstr(mrb, v);
    }
    qsort(pairs, (size_t)n, 2 * sizeof *pairs, by_name);
    return n;
}

static mrb_value series_of(mrb_state *mrb, char kind)
{
    char *name;
    mrb_value labels = mrb_nil_value();
    mrb_get_args(mrb, "z|H", &name, &labels);
    const char *pairs[2 * MAX_LABELS];
    int n = label_pairs(mrb, labels, pairs);
    char err[512];
    int dropped;
    pm_series_t *s = pm_metrics_series(kind, name, pairs, n, &dropped, err, sizeof err);
    if (s == NULL && !dropped)
        mrb_raise(mrb, E_ARGUMENT_ERROR, err);
    if (s == NULL && err[0])
        pm_warn("%s", err); /* a Series that drops its samples */
    struct RClass *cls = mrb_class_get_under(mrb, mrb_module_get_under(mrb, mrb_module_get(mrb, "Pmilter"), "Metrics"),
                                             "Series");
    struct RData *d = mrb_data_object_alloc(mrb, cls, s, &series_type);
    return mrb_obj_value(d);
}

static mrb_value metrics_counter(mrb_state *mrb, mrb_value self) { return series_of(mrb, 'c'); }
static mrb_value metrics_gauge(mrb_state *mrb, mrb_value self) { return series_of(mrb, 'g'); }
static mrb_value metrics_histogram(mrb_state *mrb, mrb_value self) { return series_of(mrb, 'h'); }

/* The optional amount (default 1) of inc/dec, a number. */
static double amount(mrb_state *mrb)
{
    mrb_float v = 1;
    mrb_get_args(mrb, "|f", &v);
    return v;
}

static mrb_value series_inc(mrb_state *mrb, mrb_value self)
{
    pm_series_t *s = DATA_PTR(self);
    double v = amount(mrb);
    if (v < 0 && s && pm_metrics_kind(s) == 'c')
        mrb_raise(mrb, E_ARGUMENT_ERROR, "a counter only goes up");
    if (s && pm_metrics_kind(s) != 'h')
        pm_metrics_add(s, v);
    return self;
}

static mrb_value series_dec(mrb_state *mrb, mrb_value self)
{
    pm_series_t *s = DATA_PTR(self);
    double v = amount(mrb);
    if (s && pm_metrics_kind(s) != 'g')
        mrb_raise(mrb, E_ARGUMENT_ERROR, "only a gauge goes down");
    if (s)
        pm_metrics_add(s, -v);
    return self;
}

static mrb_value series_set(mrb_state *mrb, mrb_value self)
{
    pm_series_t *s = DATA_PTR(self);
    mrb_float v;
    mrb_get_args(mrb, "f", &v);
    if (s && pm_metrics_kind(s) != 'g')
        mrb_raise(mrb, E_ARGUMENT_ERROR, "only a gauge can be set");
    if (s)
        pm_metrics_set(s, v);
    return self;
}

static mrb_value series_observe(mrb_state *mrb, mrb_value self)
{
    pm_series_t *s = DATA_PTR(self);
    mrb_float v;
    mrb_get_args(mrb, "f", &v);
    if (s && pm_metrics_kind(s) != 'h')
        mrb_raise(mrb, E_ARGUMENT_ERROR, "only a histogram observes");
    if (s)
        pm_metrics_observe(s, v);
    return self;
}

void pm_mrb_metrics_init(mrb_state *mrb)
{
    struct RClass *m = mrb_define_module_under(mrb, mrb_module_get(mrb, "Pmilter"), "Metrics");
    mrb_define_class_method(mrb, m, "counter", metrics_counter, MRB_ARGS_ARG(1, 1));
    mrb_define_class_method(mrb, m, "gauge", metrics_gauge, MRB_ARGS_ARG(1, 1));
    mrb_define_class_method(mrb, m, "histogram", metrics_histogram, MRB_ARGS_ARG(1, 1));
    struct RClass *series = mrb_define_class_under(mrb, m, "Series", mrb->object_class);
    MRB_SET_INSTANCE_TT(series, MRB_TT_DATA);
    mrb_undef_class_method(mrb, series, "new");
    mrb_define_method(mrb, series, "inc", series_inc, MRB_ARGS_OPT(1));
    mrb_define_method(mrb, series, "dec", series_dec, MRB_ARGS_OPT(1));
    mrb_define_method(mrb, series, "set", series_set, MRB_ARGS_REQ(1));
    mrb_define_method(mrb, series, "observe", series_observe, MRB_ARGS_REQ(1));
}
