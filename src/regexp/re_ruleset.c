/*
 * re_ruleset.c - Pmilter::RuleSet: named Regexps matched in one pass.
 * The rules whose PCRE2 translation (re_pcre.c) Hyperscan accepts are
 * compiled once into one Hyperscan database and found by one scan of the
 * subject; the others ("fallback" rules: lookaround, backreferences, rules
 * kept on Oniguruma ...) are checked with their own Regexp#match? after it.
 * A subject that is not valid UTF-8 goes to every rule's Regexp.
 * Any thread, one VM per thread at a time: a set and the VM's scratch are
 * used only by the VM that made them. See docs/regexp.md.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>
#include <mruby.h>
#include <mruby/array.h>
#include <mruby/class.h>
#include <mruby/data.h>
#include <mruby/hash.h>
#include <mruby/string.h>
#include <mruby/variable.h>

#include "re_internal.h"

/* More rules than this is surely a mistake (each costs a Regexp anyway). */
#define RS_MAX_RULES 100000

/* Flags matching the PCRE2 translation: UTF-8 without UCP (\w \d \s stay ASCII as in Ruby), ^/$ at lines. */
#define RS_HS_FLAGS (HS_FLAG_UTF8 | HS_FLAG_MULTILINE | HS_FLAG_SINGLEMATCH)

typedef struct {
    hs_database_t *db;     /* NULL when no rule went to Hyperscan */
    mrb_int n;             /* rules */
    unsigned char *in_db;  /* n flags: rule i is in db (its id is i) */
    unsigned char *hit;    /* n flags, one scan's matches; reused */
    re_vm_t *vm;           /* owns the scratch */
    size_t charged;
} rs_t;

static void rs_free(mrb_state *mrb, void *p)
{
    rs_t *rs = p;
    if (!rs)
        return;
    if (rs->db)
        hs_free_database(rs->db);
    mrb_free(mrb, rs->in_db);
    mrb_free(mrb, rs->hit);
    re_uncharge(mrb, rs->charged);
    mrb_free(mrb, rs);
}

static const mrb_data_type rs_type = {"Pmilter::RuleSet", rs_free};

void re_ruleset_vm_free(re_vm_t *vm)
{
    if (vm->hs_scratch)
        hs_free_scratch(vm->hs_scratch);
    vm->hs_scratch = NULL;
}

static rs_t *rs_get(mrb_state *mrb, mrb_value self)
{
    rs_t *rs = DATA_CHECK_GET_PTR(mrb, self, &rs_type, rs_t);
    if (!rs)
        mrb_raise(mrb, E_TYPE_ERROR, "uninitialized RuleSet");
    return rs;
}

static int hs_platform_ok(void)
{
    static _Atomic int ok = -1; /* every thread computes the same answer */
    if (ok < 0)
        ok = hs_valid_platform() == HS_SUCCESS;
    return ok;
}

/* Hyperscan's pattern for a Regexp, or NULL: only PCRE2 patterns whose translation Hyperscan accepts as is. */
static char *hs_pattern(mrb_state *mrb, mrb_value re, unsigned *flags)
{
    re_t *r = re_get(mrb, re);
    const char *why;
    if (!r->pcre)
        return NULL;
    mrb_value src = re_source(mrb, re);
    char *pat = re_pcre_translate(RSTRING_PTR(src), (size_t)RSTRING_LEN(src), r->options, &why);
    if (!pat)
        return NULL;
    *flags = RS_HS_FLAGS | (r->options & RE_IGNORECASE ? HS_FLAG_CASELESS : 0) | (r->options & RE_MULTILINE ? HS_FLAG_DOTALL : 0);
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *err = NULL;
    if (!re_utf8_valid((const unsigned char *)pat, strlen(pat)) || hs_expression_info(pat, *flags, &info, &err) != HS_SUCCESS) {
        hs_free_compile_error(err);
        free(pat);
        return NULL;
    }
    free(info);
    return pat;
}

typedef struct {
    char **pats;
    unsigned *flags, *ids, count;
} candidates_t;

/* Compile the candidates; a pattern Hyperscan refuses leaves the set and the rest compile again. */
static hs_database_t *compile_candidates(candidates_t *c, unsigned char *in_db)
{
    while (c->count > 0) {
        hs_database_t *db = NULL;
        hs_compile_error_t *err = NULL;
        if (hs_compile_multi((const char *const *)c->pats, c->flags, c->ids, c->count, HS_MODE_BLOCK, NULL, &db, &err) == HS_SUCCESS)
            return db;
        int bad = err ? err->expression : -1;
        hs_free_compile_error(err);
        if (bad < 0 || (unsigned)bad >= c->count)
            break; /* the set as a whole failed: every rule falls back */
        in_db[c->ids[bad]] = 0;
        free(c->pats[bad]);
        c->count--;
        memmove(c->pats + bad, c->pats + bad + 1, (c->count - (unsigned)bad) * sizeof *c->pats);
        memmove(c->flags + bad, c->flags + bad + 1, (c->count - (unsigned)bad) * sizeof *c->flags);
        memmove(c->ids + bad, c->ids + bad + 1, (c->count - (unsigned)bad) * sizeof *c->ids);
    }
    for (unsigned i = 0; i < c->count; i++)
        in_db[c->ids[i]] = 0;
    return NULL;
}

/* The database of the rules Hyperscan can match exactly; in_db says which. */
static hs_database_t *build_db(mrb_state *mrb, mrb_value regexps, mrb_int n, unsigned char *in_db)
{
    if (n == 0 || !hs_platform_ok())
        return NULL;
    candidates_t c = {0};
    c.pats = calloc((size_t)n, sizeof *c.pats);
    c.flags = calloc((size_t)n, sizeof *c.flags);
    c.ids = calloc((size_t)n, sizeof *c.ids);
    hs_database_t *db = NULL;
    if (c.pats && c.flags && c.ids) {
        for (mrb_int i = 0; i < n; i++) {
            char *pat = hs_pattern(mrb, RARRAY_PTR(regexps)[i], &c.flags[c.count]);
            if (!pat)
                continue;
            in_db[i] = 1;
            c.pats[c.count] = pat;
            c.ids[c.count++] = (unsigned)i;
        }
        db = compile_candidates(&c, in_db);
    }
    for (unsigned i = 0; i < c.count; i++)
        free(c.pats[i]);
    free(c.pats);
    free(c.flags);
    free(c.ids);
    if (!c.pats || !c.flags || !c.ids)
        mrb_raise_nomemory(mrb);
    return db;
}

/* Names (String or Symbol, Strings frozen copies) and Regexps of the hash, in its order. */
static void read_rules(mrb_state *mrb, mrb_value hash, mrb_value names, mrb_value regexps)
{
    mrb_value keys = mrb_hash_keys(mrb, hash);
    for (mrb_int i = 0; i < RARRAY_LEN(keys); i++) {
        mrb_value k = RARRAY_PTR(keys)[i], v = mrb_hash_get(mrb, hash, k);
        if (mrb_string_p(k))
            k = mrb_obj_freeze(mrb, mrb_str_dup(mrb, k));
        else if (!mrb_symbol_p(k))
            mrb_raisef(mrb, E_TYPE_ERROR, "RuleSet rule name must be a String or Symbol, not %C", mrb_obj_class(mrb, k));
        if (!re_is_regexp(v))
            mrb_raisef(mrb, E_TYPE_ERROR, "RuleSet rule %v: want a Regexp, not %C", k, mrb_obj_class(mrb, v));
        re_get(mrb, v); /* an uninitialised Regexp raises TypeError here */
        mrb_ary_push(mrb, names, k);
        mrb_ary_push(mrb, regexps, v);
    }
}

/* RuleSet.new({name => regexp, ...}) */
static mrb_value rs_initialize(mrb_state *mrb, mrb_value self)
{
    mrb_value hash;
    mrb_get_args(mrb, "H", &hash);
    if (DATA_PTR(self))
        mrb_raise(mrb, E_TYPE_ERROR, "already initialized RuleSet");
    mrb_int n = RARRAY_LEN(mrb_hash_keys(mrb, hash));
    if (n > RS_MAX_RULES)
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "RuleSet: %i rules, at most %i", n, (mrb_int)RS_MAX_RULES);
    mrb_value names = mrb_ary_new_capa(mrb, n), regexps = mrb_ary_new_capa(mrb, n);
    read_rules(mrb, hash, names, regexps);
    mrb_obj_freeze(mrb, names);
    mrb_iv_set(mrb, self, mrb_intern_lit(mrb, "__names"), names);
    mrb_iv_set(mrb, self, mrb_intern_lit(mrb, "__regexps"), regexps);
    rs_t *rs = mrb_calloc(mrb, 1, sizeof *rs);
    DATA_TYPE(self) = &rs_type;
    DATA_PTR(self) = rs; /* owned by self from here: a raise below leaks nothing */
    rs->n = n;
    rs->vm = re_vm(mrb);
    rs->in_db = mrb_calloc(mrb, (size_t)n + 1, 1);
    rs->hit = mrb_calloc(mrb, (size_t)n + 1, 1);
    rs->db = build_db(mrb, regexps, n, rs->in_db);
    if (!rs->db)
        return self;
    size_t size = 0;
    hs_database_size(rs->db, &size);
    if (re_charge(mrb, size, &rs->charged) != 0 || hs_alloc_scratch(rs->db, (hs_scratch_t **)&rs->vm->hs_scratch) != HS_SUCCESS) {
        hs_free_database(rs->db); /* over budget: every rule is matched by its Regexp */
        rs->db = NULL;
        memset(rs->in_db, 0, (size_t)n);
    }
    return self;
}

static int on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags, void *ctx)
{
    (void)from, (void)to, (void)flags;
    ((unsigned char *)ctx)[id] = 1;
    return 0;
}

/* One Hyperscan pass over str into rs->hit; FALSE when the subject must go to the Regexps instead. */
static mrb_bool scan(mrb_state *mrb, rs_t *rs, mrb_value str)
{
    if (!rs->db || (unsigned long long)RSTRING_LEN(str) > UINT_MAX || !re_subject_utf8(mrb, str))
        return FALSE;
    memset(rs->hit, 0, (size_t)rs->n);
    return hs_scan(rs->db, RSTRING_PTR(str), (unsigned)RSTRING_LEN(str), 0, rs->vm->hs_scratch, on_match, rs->hit) == HS_SUCCESS;
}

/* set.match(str) -> names of the rules that match, in definition order */
static mrb_value rs_match(mrb_state *mrb, mrb_value self)
{
    mrb_value str;
    mrb_get_args(mrb, "S", &str);
    rs_t *rs = rs_get(mrb, self);
    mrb_value names = mrb_iv_get(mrb, self, mrb_intern_lit(mrb, "__names"));
    mrb_value regexps = mrb_iv_get(mrb, self, mrb_intern_lit(mrb, "__regexps"));
    mrb_bool scanned = scan(mrb, rs, str);
    mrb_value out = mrb_ary_new(mrb);
    for (mrb_int i = 0; i < rs->n; i++) {
        mrb_bool hit = scanned && rs->in_db[i] ? rs->hit[i] : re_match_p(mrb, RARRAY_PTR(regexps)[i], str, 0);
        if (hit)
            mrb_ary_push(mrb, out, RARRAY_PTR(names)[i]);
    }
    return out;
}

static mrb_value rs_size(mrb_state *mrb, mrb_value self)
{
    return mrb_fixnum_value(rs_get(mrb, self)->n);
}

static mrb_value rs_names(mrb_state *mrb, mrb_value self)
{
    rs_get(mrb, self);
    mrb_value names = mrb_iv_get(mrb, self, mrb_intern_lit(mrb, "__names"));
    return mrb_ary_new_from_values(mrb, RARRAY_LEN(names), RARRAY_PTR(names));
}

/* The rules matched by their own Regexp rather than by the Hyperscan pass. */
static mrb_value rs_fallback_names(mrb_state *mrb, mrb_value self)
{
    rs_t *rs = rs_get(mrb, self);
    mrb_value names = mrb_iv_get(mrb, self, mrb_intern_lit(mrb, "__names")), out = mrb_ary_new(mrb);
    for (mrb_int i = 0; i < rs->n; i++)
        if (!rs->in_db[i])
            mrb_ary_push(mrb, out, RARRAY_PTR(names)[i]);
    return out;
}

/*
 * The cache key of a rule hash: each name (with its class) and each rule's
 * options and source, with their lengths; nil when an entry is not a rule
 * (initialize then raises the error).
 */
static mrb_value cache_key(mrb_state *mrb, mrb_value hash)
{
    mrb_value keys = mrb_hash_keys(mrb, hash), key = mrb_str_new_capa(mrb, 64);
    for (mrb_int i = 0; i < RARRAY_LEN(keys); i++) {
        mrb_value k = RARRAY_PTR(keys)[i], v = mrb_hash_get(mrb, hash, k);
        if (!(mrb_string_p(k) || mrb_symbol_p(k)) || !re_is_regexp(v) || !DATA_PTR(v))
            return mrb_nil_value();
        mrb_value name = mrb_symbol_p(k) ? mrb_sym_str(mrb, mrb_symbol(k)) : k, src = re_source(mrb, v);
        mrb_int head[3] = {mrb_symbol_p(k) ? -RSTRING_LEN(name) - 1 : RSTRING_LEN(name), RSTRING_LEN(src), re_get(mrb, v)->options};
        mrb_str_cat(mrb, key, (const char *)head, sizeof head);
        mrb_str_cat_str(mrb, key, name);
        mrb_str_cat_str(mrb, key, src);
    }
    return key;
}

/* Sets kept per VM, so that a handler file's RULES = Pmilter::RuleSet.new(...), run by every callback, compiles once. */
#define RS_CACHE_MAX 64

/*
 * RuleSet.new(hash): the set this VM already built from the same names and
 * patterns (a set never changes, so it can be shared), else a new one.
 */
static mrb_value rs_new(mrb_state *mrb, mrb_value klass)
{
    mrb_value hash;
    mrb_get_args(mrb, "H", &hash);
    mrb_value key = cache_key(mrb, hash);
    if (mrb_nil_p(key))
        return mrb_obj_new(mrb, mrb_class_ptr(klass), 1, &hash);
    mrb_sym cache_sym = mrb_intern_lit(mrb, "__cache");
    mrb_value cache = mrb_iv_get(mrb, klass, cache_sym);
    if (!mrb_hash_p(cache)) {
        cache = mrb_hash_new(mrb);
        mrb_iv_set(mrb, klass, cache_sym, cache);
    }
    mrb_value set = mrb_hash_get(mrb, cache, key);
    if (!mrb_nil_p(set))
        return set;
    set = mrb_obj_new(mrb, mrb_class_ptr(klass), 1, &hash);
    if (mrb_hash_size(mrb, cache) >= RS_CACHE_MAX)
        mrb_hash_clear(mrb, cache);
    mrb_hash_set(mrb, cache, key, set);
    return set;
}

void pm_mrb_ruleset_init(mrb_state *mrb)
{
    struct RClass *pm = mrb_define_module(mrb, "Pmilter");
    struct RClass *c = mrb_define_class_under(mrb, pm, "RuleSet", mrb->object_class);
    MRB_SET_INSTANCE_TT(c, MRB_TT_DATA);
    mrb_define_class_method(mrb, c, "new", rs_new, MRB_ARGS_REQ(1));
    mrb_define_method(mrb, c, "initialize", rs_initialize, MRB_ARGS_REQ(1));
    mrb_define_method(mrb, c, "match", rs_match, MRB_ARGS_REQ(1));
    mrb_define_method(mrb, c, "size", rs_size, MRB_ARGS_NONE());
    mrb_define_method(mrb, c, "names", rs_names, MRB_ARGS_NONE());
    mrb_define_method(mrb, c, "fallback_names", rs_fallback_names, MRB_ARGS_NONE());
}
