/* mrb_kv: Pmilter::KV, the shared key-value store (docs/kv.md). Converts Ruby
 * values to the C API in src/kv/ and back: keys are Strings (the [kv] prefix
 * is put in front), values Strings or Integers (kept as decimal text), TTLs
 * seconds (Integer or Float). The memory backend is the process-wide store;
 * the redis backend uses a connection that belongs to this VM, kept in a
 * hidden instance variable of the module and closed when the VM is closed.
 * Threads: the thread that holds the VM.
 * Diagnostics: a backend failure raises Pmilter::KV::Error with its reason. */
#include <mruby.h>
#include <mruby/array.h>
#include <mruby/class.h>
#include <mruby/data.h>
#include <mruby/error.h>
#include <mruby/hash.h>
#include <mruby/string.h>
#include <mruby/variable.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kv/kv.h"
#include "ruby/mrb_init.h"

static void redis_conn_free(mrb_state *mrb, void *p)
{
    pm_kv_redis_free(p);
}

static const mrb_data_type redis_conn_type = {"Pmilter::KV redis connection", redis_conn_free};

typedef struct {
    const pm_kv_ops_t *ops;
    void *b;
    const char *prefix;
} backend_t;

static struct RClass *kv_module(mrb_state *mrb)
{
    return mrb_module_get_under(mrb, mrb_module_get(mrb, "Pmilter"), "KV");
}

static mrb_noreturn void raise_kv(mrb_state *mrb, const char *err)
{
    mrb_raise(mrb, mrb_class_get_under(mrb, kv_module(mrb), "Error"), err);
}

/* This VM's Redis connection, made (not yet connected) on first use. The VM
 * belongs to one configuration generation, so its [kv] settings never change.
 * kv is the module (self of its methods): looking it up by name, and a long
 * variable name, each cost a symbol-table search per call. */
static void *redis_of(mrb_state *mrb, mrb_value kv, const pm_config_t *cfg)
{
    mrb_sym name = mrb_intern_lit(mrb, "_pmrc"); /* no "@": unreachable from Ruby; 5 characters: packed, no search */
    mrb_value holder = mrb_iv_get(mrb, kv, name);
    if (mrb_nil_p(holder)) {
        struct RData *d = mrb_data_object_alloc(mrb, mrb->object_class, NULL, &redis_conn_type);
        d->data = pm_kv_redis_new(cfg->kv_url, cfg->kv_password, cfg->kv_timeout_ms);
        holder = mrb_obj_value(d);
        mrb_iv_set(mrb, kv, name, holder);
    }
    return DATA_PTR(holder);
}

/* self: Pmilter::KV, the receiver of every method here. */
static backend_t backend(mrb_state *mrb, mrb_value self)
{
    const pm_config_t *cfg = pm_mrb_call(mrb)->cfg;
    if (cfg->kv_redis)
        return (backend_t){&pm_kv_redis_ops, redis_of(mrb, self, cfg), cfg->kv_prefix};
    pm_kv_mem_t *m = pm_kv_process_store();
    if (m == NULL)
        raise_kv(mrb, "the memory store is not started (pmilter -t runs no handler that may use it)");
    return (backend_t){&pm_kv_mem_ops, m, cfg->kv_prefix};
}

/* The stored key: prefix + key, as one new Ruby String (the GC frees it). */
static mrb_value full_key(mrb_state *mrb, const backend_t *be, mrb_value key)
{
    const char *p;
    mrb_int len;
    if (mrb_string_p(key)) {
        p = RSTRING_PTR(key);
        len = RSTRING_LEN(key);
    } else if (mrb_symbol_p(key)) {
        p = mrb_sym_name_len(mrb, mrb_symbol(key), &len);
    } else {
        mrb_raisef(mrb, E_TYPE_ERROR, "Pmilter::KV key must be a String, got %s", mrb_obj_classname(mrb, key));
    }
    size_t plen = be->prefix ? strlen(be->prefix) : 0;
    mrb_value k = mrb_str_new(mrb, NULL, (mrb_int)plen + len); /* allocating moves no other String */
    if (plen)
        memcpy(RSTRING_PTR(k), be->prefix, plen);
    memcpy(RSTRING_PTR(k) + plen, p, (size_t)len);
    return k;
}

static mrb_value value_text(mrb_state *mrb, mrb_value v)
{
    if (mrb_string_p(v))
        return v;
    if (mrb_integer_p(v))
        return mrb_obj_as_string(mrb, v);
    mrb_raisef(mrb, E_TYPE_ERROR, "Pmilter::KV values are Strings or Integers, got %s", mrb_obj_classname(mrb, v));
}

/* Seconds (Integer or Float, undef/nil: none) to milliseconds; 0 is none. */
static long long ttl_ms_of(mrb_state *mrb, mrb_value ttl, int required)
{
    if (mrb_undef_p(ttl) || mrb_nil_p(ttl)) {
        if (required)
            mrb_raise(mrb, E_ARGUMENT_ERROR, "Pmilter::KV: ttl is required");
        return 0;
    }
    double s = mrb_integer_p(ttl) ? (double)mrb_integer(ttl) : mrb_float_p(ttl) ? mrb_float(ttl) : -1;
    if (!(s > 0) || s > 1e9)
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "Pmilter::KV: ttl must be a positive number of seconds, got %v", ttl);
    long long ms = (long long)(s * 1000);
    return ms > 0 ? ms : 1;
}

typedef struct {
    const char *name;
    size_t len;
    mrb_value value;
    int other; /* a keyword besides name */
} kw_one_t;

static int kw_one_visit(mrb_state *mrb, mrb_value key, mrb_value val, void *data)
{
    kw_one_t *kw = data;
    mrb_int len = 0;
    const char *name = mrb_symbol_p(key) ? mrb_sym_name_len(mrb, mrb_symbol(key), &len) : NULL;
    if (name && (size_t)len == kw->len && memcmp(name, kw->name, kw->len) == 0)
        kw->value = val;
    else
        kw->other = 1;
    return 0;
}

/* The call's positional arguments (at least min, at most max) and its one
 * keyword `name` (undef if not given), read straight from the call: a C
 * method always gets its keywords as one Hash (nk 15) after them. FALSE for
 * anything else (another keyword, a wrong count), which the caller hands to
 * mrb_get_args for the error it raises. mrb_get_args itself copies the
 * keyword Hash and interns the name on every call: two thirds of an incr. */
static mrb_bool args_and_keyword(mrb_state *mrb, mrb_int min, mrb_int max, const char *name, mrb_value *argv,
                                 mrb_value *value)
{
    const mrb_callinfo *ci = mrb->c->ci;
    mrb_int argc = mrb_get_argc(mrb);
    if (argc < min || argc > max || (ci->nk != 0 && ci->nk != 15))
        return FALSE;
    const mrb_value *args = mrb_get_argv(mrb);
    for (mrb_int i = 0; i < argc; i++)
        argv[i] = args[i];
    kw_one_t kw = {name, strlen(name), mrb_undef_value(), 0};
    if (ci->nk == 15) {
        mrb_value h = ci->stack[1 + (ci->n == 15 ? 1 : ci->n)];
        if (!mrb_hash_p(h))
            return FALSE;
        mrb_hash_foreach(mrb, mrb_hash_ptr(h), kw_one_visit, &kw);
    }
    *value = kw.value;
    return !kw.other;
}

static mrb_value ttl_kwarg(mrb_state *mrb, const char *fmt, mrb_value *a, mrb_value *b)
{
    mrb_value argv[2] = {mrb_undef_value(), mrb_undef_value()}, ttl;
    mrb_int min = fmt[1] == '|' ? 1 : 2;
    if (args_and_keyword(mrb, min, 2, "ttl", argv, &ttl)) {
        *a = argv[0];
        *b = argv[1];
        return ttl;
    }
    mrb_sym names[] = {mrb_intern_lit(mrb, "ttl")};
    mrb_value values[1];
    mrb_kwargs kw = {1, 0, names, values, NULL};
    mrb_get_args(mrb, fmt, a, b, &kw);
    return values[0];
}

static unsigned long long micros(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000 + (unsigned long long)ts.tv_nsec / 1000;
}

/* Counts the call and raises KV::Error if it failed. */
static int done(mrb_state *mrb, int rc, unsigned long long started, const char *err)
{
    unsigned long long waited = micros() - started;
    pm_kv_stats_add(rc < 0, waited);
    pm_call_t *call = mrb->ud;
    if (call && call->session) /* the per-message log line's kv_us */
        call->session->kv_us += (long long)waited;
    if (rc < 0)
        raise_kv(mrb, err);
    return rc;
}

#define KEY_ARGS(k) RSTRING_PTR(k), (size_t)RSTRING_LEN(k)

static mrb_value get_one(mrb_state *mrb, const backend_t *be, mrb_value key)
{
    mrb_value k = full_key(mrb, be, key);
    char err[512] = "", *val = NULL;
    size_t vlen = 0;
    unsigned long long t = micros();
    if (done(mrb, be->ops->get(be->b, KEY_ARGS(k), &val, &vlen, err, sizeof err), t, err) == 0)
        return mrb_nil_value();
    mrb_value v = mrb_str_new(mrb, val, vlen);
    free(val);
    return v;
}

static mrb_value kv_get(mrb_state *mrb, mrb_value self)
{
    mrb_value key;
    mrb_get_args(mrb, "o", &key);
    backend_t be = backend(mrb, self);
    return get_one(mrb, &be, key);
}

typedef struct {
    mrb_value out; /* the full keys, replaced by the values */
    char **vals;   /* malloc'd by the backend; NULL: absent */
    size_t *vlens;
    mrb_int n;
} mget_values_t;

static mrb_value fill_values(mrb_state *mrb, void *arg)
{
    mget_values_t *v = arg;
    for (mrb_int i = 0; i < v->n; i++)
        mrb_ary_set(mrb, v->out, i, v->vals[i] ? mrb_str_new(mrb, v->vals[i], v->vlens[i]) : mrb_nil_value());
    return v->out;
}

/* One round trip for all keys where the backend has mget (Redis: MGET). */
static mrb_value kv_mget(mrb_state *mrb, mrb_value self)
{
    const mrb_value *keys;
    mrb_int n;
    mrb_get_args(mrb, "*", &keys, &n);
    backend_t be = backend(mrb, self);
    mrb_value out = mrb_ary_new_capa(mrb, n);
    if (be.ops->mget == NULL || n == 0) {
        for (mrb_int i = 0; i < n; i++)
            mrb_ary_push(mrb, out, get_one(mrb, &be, keys[i]));
        return out;
    }
    for (mrb_int i = 0; i < n; i++) /* may raise (a key of the wrong type): nothing is allocated yet */
        mrb_ary_push(mrb, out, full_key(mrb, &be, keys[i]));
    const char **k = mrb_malloc(mrb, (size_t)n * (2 * sizeof(char *) + 2 * sizeof(size_t)));
    mget_values_t v = {out, (char **)(k + n), NULL, n};
    size_t *klens = (size_t *)(v.vals + n);
    v.vlens = klens + n;
    for (mrb_int i = 0; i < n; i++) {
        k[i] = RSTRING_PTR(RARRAY_PTR(out)[i]);
        klens[i] = (size_t)RSTRING_LEN(RARRAY_PTR(out)[i]);
    }
    char err[512] = "";
    unsigned long long t = micros();
    int rc = be.ops->mget(be.b, (size_t)n, k, klens, v.vals, v.vlens, err, sizeof err);
    mrb_bool failed = FALSE;
    mrb_value exc = mrb_nil_value();
    if (rc == 0) { /* a String that does not fit in handler_memory raises: the copies are freed first */
        exc = mrb_protect_error(mrb, fill_values, &v, &failed);
        for (mrb_int i = 0; i < n; i++)
            free(v.vals[i]);
    }
    mrb_free(mrb, k);
    if (failed)
        mrb_exc_raise(mrb, exc);
    done(mrb, rc, t, err);
    return out;
}

static mrb_value store(mrb_state *mrb, mrb_value self, int only_if_absent)
{
    mrb_value key, value;
    mrb_value ttl = ttl_kwarg(mrb, "oo:", &key, &value);
    backend_t be = backend(mrb, self);
    mrb_value k = full_key(mrb, &be, key), v = value_text(mrb, value);
    long long ms = ttl_ms_of(mrb, ttl, 0);
    char err[512] = "";
    unsigned long long t = micros();
    int rc = be.ops->set(be.b, KEY_ARGS(k), RSTRING_PTR(v), (size_t)RSTRING_LEN(v), ms, only_if_absent, err, sizeof err);
    return mrb_bool_value(done(mrb, rc, t, err) == 1);
}

static mrb_value kv_set(mrb_state *mrb, mrb_value self)
{
    store(mrb, self, 0);
    return mrb_true_value();
}

static mrb_value kv_add(mrb_state *mrb, mrb_value self)
{
    return store(mrb, self, 1);
}

static long long incr_by(mrb_state *mrb, mrb_value self, mrb_value key, long long by, long long ttl_ms)
{
    backend_t be = backend(mrb, self);
    mrb_value k = full_key(mrb, &be, key);
    char err[512] = "";
    long long n = 0;
    unsigned long long t = micros();
    done(mrb, be.ops->incr(be.b, KEY_ARGS(k), by, ttl_ms, &n, err, sizeof err), t, err);
    return n;
}

static mrb_value kv_incr(mrb_state *mrb, mrb_value self)
{
    mrb_value key, by = mrb_undef_value();
    mrb_value ttl = ttl_kwarg(mrb, "o|o:", &key, &by);
    if (!mrb_undef_p(by) && !mrb_integer_p(by))
        mrb_raisef(mrb, E_TYPE_ERROR, "Pmilter::KV.incr: the increment must be an Integer, got %s",
                   mrb_obj_classname(mrb, by));
    long long n = incr_by(mrb, self, key, mrb_undef_p(by) ? 1 : mrb_integer(by), ttl_ms_of(mrb, ttl, 0));
    return mrb_int_value(mrb, (mrb_int)n);
}

static mrb_value kv_delete(mrb_state *mrb, mrb_value self)
{
    mrb_value key;
    mrb_get_args(mrb, "o", &key);
    backend_t be = backend(mrb, self);
    mrb_value k = full_key(mrb, &be, key);
    char err[512] = "";
    unsigned long long t = micros();
    return mrb_bool_value(done(mrb, be.ops->del(be.b, KEY_ARGS(k), err, sizeof err), t, err) == 1);
}

static mrb_value kv_ttl(mrb_state *mrb, mrb_value self)
{
    mrb_value key;
    mrb_get_args(mrb, "o", &key);
    backend_t be = backend(mrb, self);
    mrb_value k = full_key(mrb, &be, key);
    char err[512] = "";
    long long ms = 0;
    unsigned long long t = micros();
    if (done(mrb, be.ops->ttl(be.b, KEY_ARGS(k), &ms, err, sizeof err), t, err) == 0)
        return mrb_nil_value();
    return mrb_int_value(mrb, (mrb_int)((ms + 999) / 1000)); /* seconds, rounded up: 0.2 s left is 1 */
}

static mrb_value kv_expire(mrb_state *mrb, mrb_value self)
{
    mrb_value key, ttl;
    mrb_get_args(mrb, "oo", &key, &ttl);
    long long ms = ttl_ms_of(mrb, ttl, 1);
    backend_t be = backend(mrb, self);
    mrb_value k = full_key(mrb, &be, key);
    char err[512] = "";
    unsigned long long t = micros();
    return mrb_bool_value(done(mrb, be.ops->expire(be.b, KEY_ARGS(k), ms, err, sizeof err), t, err) == 1);
}

/* A fixed window: the first hit starts a window of `per` seconds; true while
 * this hit is within the limit of that window. */
static mrb_value kv_rate_limit(mrb_state *mrb, mrb_value self)
{
    mrb_value argv[2], per, key;
    mrb_int limit;
    if (args_and_keyword(mrb, 2, 2, "per", argv, &per) && mrb_integer_p(argv[1]) && !mrb_undef_p(per)) {
        key = argv[0];
        limit = mrb_integer(argv[1]);
    } else {
        mrb_sym names[] = {mrb_intern_lit(mrb, "per")};
        mrb_kwargs kw = {1, 1, names, &per, NULL};
        mrb_get_args(mrb, "oi:", &key, &limit, &kw);
    }
    long long n = incr_by(mrb, self, key, 1, ttl_ms_of(mrb, per, 1));
    return mrb_bool_value(n <= limit);
}

void pm_mrb_kv_init(mrb_state *mrb)
{
    struct RClass *kv = mrb_define_module_under(mrb, mrb_module_get(mrb, "Pmilter"), "KV");
    mrb_define_class_under(mrb, kv, "Error", mrb->eStandardError_class);
    mrb_define_class_method(mrb, kv, "get", kv_get, MRB_ARGS_REQ(1));
    mrb_define_class_method(mrb, kv, "mget", kv_mget, MRB_ARGS_ANY());
    mrb_define_class_method(mrb, kv, "set", kv_set, MRB_ARGS_REQ(2) | MRB_ARGS_KEY(1, 0));
    mrb_define_class_method(mrb, kv, "add", kv_add, MRB_ARGS_REQ(2) | MRB_ARGS_KEY(1, 0));
    mrb_define_class_method(mrb, kv, "incr", kv_incr, MRB_ARGS_ARG(1, 1) | MRB_ARGS_KEY(1, 0));
    mrb_define_class_method(mrb, kv, "delete", kv_delete, MRB_ARGS_REQ(1));
    mrb_define_class_method(mrb, kv, "ttl", kv_ttl, MRB_ARGS_REQ(1));
    mrb_define_class_method(mrb, kv, "expire", kv_expire, MRB_ARGS_REQ(2));
    mrb_define_class_method(mrb, kv, "rate_limit", kv_rate_limit, MRB_ARGS_REQ(2) | MRB_ARGS_KEY(1, 1));
}
