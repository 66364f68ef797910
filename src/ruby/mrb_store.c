/* mrb_store: data a handler keeps for later callbacks. Session#[] and #[]=
 * keep it for the connection (cleared at close); Session#message_store for
 * the current message (cleared at eom and abort). Values are copied into the
 * C session as bytes, because the next callback may run on another VM: nil,
 * true, false, Integer, Float, String, Symbol, and Arrays and Hashes of those.
 * Anything else raises TypeError. */
#include <mruby.h>
#include <mruby/array.h>
#include <mruby/class.h>
#include <mruby/hash.h>
#include <mruby/string.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "milter/store.h"
#include "ruby/mrb_init.h"

#define MAX_DEPTH 32

static void put_u32(pm_buf_t *b, uint32_t v)
{
    pm_buf_append(b, &v, sizeof v);
}

/* Raises unless v can be kept. Runs before anything is allocated in C, so a
 * raise leaks nothing. */
static void check(mrb_state *mrb, mrb_value v, int depth)
{
    if (depth > MAX_DEPTH)
        mrb_raise(mrb, E_ARGUMENT_ERROR, "Pmilter::Session store: value nested too deeply (or contains itself)");
    if (mrb_nil_p(v) || mrb_true_p(v) || mrb_false_p(v) || mrb_integer_p(v) || mrb_float_p(v) || mrb_string_p(v) ||
        mrb_symbol_p(v))
        return;
    if (mrb_array_p(v)) {
        for (mrb_int i = 0; i < RARRAY_LEN(v); i++)
            check(mrb, mrb_ary_ref(mrb, v, i), depth + 1);
        return;
    }
    if (mrb_hash_p(v)) {
        mrb_value keys = mrb_hash_keys(mrb, v);
        for (mrb_int i = 0; i < RARRAY_LEN(keys); i++) {
            check(mrb, mrb_ary_ref(mrb, keys, i), depth + 1);
            check(mrb, mrb_hash_get(mrb, v, mrb_ary_ref(mrb, keys, i)), depth + 1);
        }
        return;
    }
    mrb_raisef(mrb, E_TYPE_ERROR,
               "Pmilter::Session store cannot keep a %s (only nil, true, false, Integer, Float, String, Symbol, "
               "and Arrays and Hashes of those)",
               mrb_obj_classname(mrb, v));
}

static void encode(mrb_state *mrb, mrb_value v, pm_buf_t *b);

static int encode_pair(mrb_state *mrb, mrb_value key, mrb_value value, void *b)
{
    encode(mrb, key, b);
    encode(mrb, value, b);
    return 0;
}

/* Appends v, already checked (see check), to b. Makes no VM allocation, so
 * it cannot raise while C buffers are held. */
static void encode(mrb_state *mrb, mrb_value v, pm_buf_t *b)
{
    char tag;
    if (mrb_nil_p(v)) {
        pm_buf_append(b, "n", 1);
    } else if (mrb_true_p(v)) {
        pm_buf_append(b, "t", 1);
    } else if (mrb_false_p(v)) {
        pm_buf_append(b, "f", 1);
    } else if (mrb_integer_p(v)) {
        int64_t i = mrb_integer(v);
        pm_buf_append(b, "i", 1);
        pm_buf_append(b, &i, sizeof i);
    } else if (mrb_float_p(v)) {
        double d = mrb_float(v);
        pm_buf_append(b, "d", 1);
        pm_buf_append(b, &d, sizeof d);
    } else if (mrb_string_p(v)) {
        pm_buf_append(b, "s", 1);
        put_u32(b, (uint32_t)RSTRING_LEN(v));
        pm_buf_append(b, RSTRING_PTR(v), (size_t)RSTRING_LEN(v));
    } else if (mrb_symbol_p(v)) {
        mrb_int len;
        const char *name = mrb_sym_name_len(mrb, mrb_symbol(v), &len); /* no allocation */
        tag = 'y';
        pm_buf_append(b, &tag, 1);
        put_u32(b, (uint32_t)len);
        pm_buf_append(b, name, (size_t)len);
    } else if (mrb_array_p(v)) {
        pm_buf_append(b, "a", 1);
        put_u32(b, (uint32_t)RARRAY_LEN(v));
        for (mrb_int i = 0; i < RARRAY_LEN(v); i++)
            encode(mrb, mrb_ary_ref(mrb, v, i), b);
    } else if (mrb_hash_p(v)) {
        pm_buf_append(b, "h", 1);
        put_u32(b, (uint32_t)mrb_hash_size(mrb, v));
        mrb_hash_foreach(mrb, mrb_hash_ptr(v), encode_pair, b); /* allocates nothing in the VM */
    }
}

typedef struct {
    const char *p, *end;
} reader_t;

static const void *take(reader_t *r, size_t n)
{
    if ((size_t)(r->end - r->p) < n)
        return NULL;
    const void *at = r->p;
    r->p += n;
    return at;
}

static mrb_value decode(mrb_state *mrb, reader_t *r)
{
    const char *tag = take(r, 1);
    const void *data;
    uint32_t n = 0;
    if (tag == NULL)
        return mrb_nil_value();
    switch (*tag) {
    case 't': return mrb_true_value();
    case 'f': return mrb_false_value();
    case 'i': {
        int64_t i = 0;
        if ((data = take(r, sizeof i)))
            memcpy(&i, data, sizeof i);
        return mrb_int_value(mrb, (mrb_int)i);
    }
    case 'd': {
        double d = 0;
        if ((data = take(r, sizeof d)))
            memcpy(&d, data, sizeof d);
        return mrb_float_value(mrb, d);
    }
    case 's':
    case 'y':
        if ((data = take(r, sizeof n)))
            memcpy(&n, data, sizeof n);
        data = take(r, n);
        if (data == NULL)
            return mrb_nil_value();
        return *tag == 's' ? mrb_str_new(mrb, data, n) : mrb_symbol_value(mrb_intern(mrb, data, n));
    case 'a': {
        if ((data = take(r, sizeof n)))
            memcpy(&n, data, sizeof n);
        mrb_value ary = mrb_ary_new(mrb);
        for (uint32_t i = 0; i < n && r->p < r->end; i++)
            mrb_ary_push(mrb, ary, decode(mrb, r));
        return ary;
    }
    case 'h': {
        if ((data = take(r, sizeof n)))
            memcpy(&n, data, sizeof n);
        mrb_value h = mrb_hash_new(mrb);
        for (uint32_t i = 0; i < n && r->p < r->end; i++) {
            mrb_value k = decode(mrb, r);
            mrb_hash_set(mrb, h, k, decode(mrb, r));
        }
        return h;
    }
    default: return mrb_nil_value();
    }
}

static pm_store_t *store_of(mrb_state *mrb, int message)
{
    pm_session_t *s = pm_mrb_call(mrb)->session;
    if (s == NULL)
        mrb_raise(mrb, E_RUNTIME_ERROR, "Pmilter::Session store: no SMTP session in this phase");
    return message ? &s->message_store : &s->store;
}

/* The store key's bytes: the encoded key, so "a" and :a are different keys. */
static void encode_key(mrb_state *mrb, mrb_value key, pm_buf_t *kb)
{
    check(mrb, key, 0);
    pm_buf_init(kb, PM_STORE_MAX_BYTES);
    encode(mrb, key, kb);
}

static mrb_value store_get(mrb_state *mrb, int message)
{
    mrb_value key;
    mrb_get_args(mrb, "o", &key);
    pm_store_t *st = store_of(mrb, message);
    pm_buf_t kb;
    encode_key(mrb, key, &kb);
    size_t vlen;
    const char *v = kb.truncated ? NULL : pm_store_get(st, kb.data ? kb.data : "", kb.len, &vlen);
    pm_buf_reset(&kb);
    if (v == NULL)
        return mrb_nil_value();
    reader_t r = {v, v + vlen};
    return decode(mrb, &r);
}

static mrb_value store_set(mrb_state *mrb, int message)
{
    mrb_value key, value;
    mrb_get_args(mrb, "oo", &key, &value);
    pm_store_t *st = store_of(mrb, message);
    check(mrb, value, 0); /* raises before any C allocation */
    pm_buf_t kb, vb;
    encode_key(mrb, key, &kb);
    pm_buf_init(&vb, PM_STORE_MAX_BYTES);
    encode(mrb, value, &vb);
    int rc = kb.truncated || vb.truncated
                 ? -1
                 : pm_store_put(st, kb.data ? kb.data : "", kb.len, vb.data ? vb.data : "", vb.len);
    pm_buf_reset(&kb);
    pm_buf_reset(&vb);
    if (rc != 0)
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "Pmilter::Session store: more than %d bytes", PM_STORE_MAX_BYTES);
    return value;
}

static mrb_value session_store_get(mrb_state *mrb, mrb_value self)
{
    return store_get(mrb, 0);
}

static mrb_value session_store_set(mrb_state *mrb, mrb_value self)
{
    return store_set(mrb, 0);
}

static mrb_value message_store_get(mrb_state *mrb, mrb_value self)
{
    return store_get(mrb, 1);
}

static mrb_value message_store_set(mrb_state *mrb, mrb_value self)
{
    return store_set(mrb, 1);
}

static mrb_value session_message_store(mrb_state *mrb, mrb_value self)
{
    struct RClass *session = mrb_class_get_under(mrb, mrb_module_get(mrb, "Pmilter"), "Session");
    return mrb_obj_new(mrb, mrb_class_get_under(mrb, session, "MessageStore"), 0, NULL);
}

void pm_mrb_store_init(mrb_state *mrb)
{
    struct RClass *session = mrb_class_get_under(mrb, mrb_module_get(mrb, "Pmilter"), "Session");
    mrb_define_method(mrb, session, "[]", session_store_get, MRB_ARGS_REQ(1));
    mrb_define_method(mrb, session, "[]=", session_store_set, MRB_ARGS_REQ(2));
    mrb_define_method(mrb, session, "message_store", session_message_store, MRB_ARGS_NONE());
    struct RClass *ms = mrb_define_class_under(mrb, session, "MessageStore", mrb->object_class);
    mrb_define_method(mrb, ms, "[]", message_store_get, MRB_ARGS_REQ(1));
    mrb_define_method(mrb, ms, "[]=", message_store_set, MRB_ARGS_REQ(2));
}
