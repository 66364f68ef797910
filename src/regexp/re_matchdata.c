/*
 * re_matchdata.c - MatchData and the last-match globals.
 *
 * A MatchData is an RData holding md_t (Oniguruma's region: byte offsets)
 * with the frozen subject and the Regexp as hidden ivars __string and
 * __regexp. Offsets are bytes, so s[m.begin(0)...m.end(0)] == m[0] holds.
 *
 * mruby reads $~, $1..$9, $&, $`, $' and $+ with OP_GETGV like any global,
 * so re_set_last_match() stores them all after every match -- in a VM whose
 * code may read them (re_reads.c); elsewhere it stores nothing. They are
 * VM-wide, not frame-local as in CRuby (docs/regexp.md), so the VM clears
 * them before every handler run (pm_regexp_reset_last_match).
 * DIAGNOSTICS: IndexError for a bad group index or name.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <mruby.h>
#include <mruby/array.h>
#include <mruby/class.h>
#include <mruby/hash.h>
#include <mruby/range.h>
#include <mruby/string.h>
#include <mruby/variable.h>

#include "re_internal.h"
#include "regexp/mrb_regexp.h"

static void md_free(mrb_state *mrb, void *p)
{
    md_t *m = p;
    if (!m)
        return;
    if (m->region)
        onig_region_free(m->region, 1);
    re_uncharge(mrb, m->charged);
    mrb_free(mrb, m);
}

const mrb_data_type md_type = {"MatchData", md_free};

/* Gives the MatchData md a C side: an empty region for a search with reg. */
static md_t *md_attach(mrb_state *mrb, mrb_value md, regex_t *reg)
{
    md_t *m = mrb_calloc(mrb, 1, sizeof *m);
    DATA_TYPE(md) = &md_type;
    DATA_PTR(md) = m;
    if (re_charge(mrb, re_region_cost(reg), &m->charged) != 0)
        mrb_raise_nomemory(mrb);
    m->region = onig_region_new();
    if (!m->region)
        mrb_raise_nomemory(mrb);
    m->reg = reg;
    return m;
}

/*
 * A MatchData with an empty region for a search of snap by re/reg to fill.
 * reg belongs to re; the __regexp ivar keeps re, and so reg, alive as long
 * as the MatchData is (re's program is never replaced: re_regexp.c).
 */
mrb_value md_alloc(mrb_state *mrb, mrb_value re, regex_t *reg, mrb_value snap)
{
    mrb_value md = mrb_obj_value(mrb_data_object_alloc(mrb, mrb_class_get(mrb, "MatchData"), NULL, &md_type));
    mrb_iv_set(mrb, md, mrb_intern_lit(mrb, "__string"), snap);
    mrb_iv_set(mrb, md, mrb_intern_lit(mrb, "__regexp"), re);
    md_attach(mrb, md, reg);
    return md;
}

/* MatchData#initialize_copy(orig), for dup and clone: a region of its own. */
static mrb_value matchdata_initialize_copy(mrb_state *mrb, mrb_value self)
{
    mrb_value orig;
    mrb_get_args(mrb, "o", &orig);
    md_t *from = md_get(mrb, orig);
    if (!mrb_data_p(self) || DATA_PTR(self))
        mrb_raise(mrb, E_TYPE_ERROR, "already initialized MatchData");
    mrb_iv_set(mrb, self, mrb_intern_lit(mrb, "__string"), md_subject(mrb, orig));
    mrb_iv_set(mrb, self, mrb_intern_lit(mrb, "__regexp"), mrb_iv_get(mrb, orig, mrb_intern_lit(mrb, "__regexp")));
    onig_region_copy(md_attach(mrb, self, from->reg)->region, from->region);
    return self;
}

md_t *md_get(mrb_state *mrb, mrb_value md)
{
    md_t *m = DATA_CHECK_GET_PTR(mrb, md, &md_type, md_t);
    if (!m)
        mrb_raise(mrb, E_TYPE_ERROR, "uninitialized MatchData");
    return m;
}

mrb_value md_subject(mrb_state *mrb, mrb_value md)
{
    return mrb_iv_get(mrb, md, mrb_intern_lit(mrb, "__string"));
}

static int md_size(mrb_state *mrb, mrb_value md)
{
    return md_get(mrb, md)->region->num_regs;
}

/* Start / end byte offset of group n, -1 if it did not take part. n must be valid. */
mrb_int md_begin(mrb_state *mrb, mrb_value md, int n)
{
    return md_get(mrb, md)->region->beg[n];
}

mrb_int md_end(mrb_state *mrb, mrb_value md, int n)
{
    return md_get(mrb, md)->region->end[n];
}

/* Text of group n, or nil when n is out of range or the group did not match. */
mrb_value md_group(mrb_state *mrb, mrb_value md, int n)
{
    OnigRegion *r = md_get(mrb, md)->region;
    if (n < 0 || n >= r->num_regs || r->beg[n] < 0)
        return mrb_nil_value();
    return mrb_str_substr(mrb, md_subject(mrb, md), r->beg[n], r->end[n] - r->beg[n]);
}

/* Group number for a name (the last one that matched, for a repeated name). */
int md_name_to_group(mrb_state *mrb, mrb_value md, const char *name, size_t len, mrb_bool raise)
{
    md_t *m = md_get(mrb, md);
    const OnigUChar *p = (const OnigUChar *)name;
    int n = onig_name_to_backref_number(m->reg, p, p + len, m->region);
    if (n < 0 && raise)
        mrb_raisef(mrb, E_INDEX_ERROR, "undefined group name reference: %v", mrb_str_new(mrb, name, (mrb_int)len));
    return n;
}

/* Group number for an Integer, String or Symbol argument; Integer is returned as given. */
static mrb_int group_arg(mrb_state *mrb, mrb_value md, mrb_value idx)
{
    if (mrb_integer_p(idx))
        return mrb_integer(idx);
    if (mrb_symbol_p(idx))
        idx = mrb_sym_str(mrb, mrb_symbol(idx));
    if (mrb_string_p(idx))
        return md_name_to_group(mrb, md, RSTRING_PTR(idx), (size_t)RSTRING_LEN(idx), TRUE);
    mrb_raisef(mrb, E_TYPE_ERROR, "no implicit conversion of %T into Integer", idx);
    return 0;
}

/* For begin/end/offset: a valid group number or IndexError. */
static int checked_group(mrb_state *mrb, mrb_value md)
{
    mrb_value idx;
    mrb_get_args(mrb, "o", &idx);
    mrb_int n = group_arg(mrb, md, idx);
    if (n < 0 || n >= md_size(mrb, md))
        mrb_raisef(mrb, E_INDEX_ERROR, "index %i out of matches", n);
    return (int)n;
}

static mrb_value matchdata_begin(mrb_state *mrb, mrb_value self)
{
    int n = checked_group(mrb, self);
    mrb_int b = md_begin(mrb, self, n);
    return b < 0 ? mrb_nil_value() : mrb_fixnum_value(b);
}

static mrb_value matchdata_end(mrb_state *mrb, mrb_value self)
{
    int n = checked_group(mrb, self);
    mrb_int e = md_end(mrb, self, n);
    return e < 0 ? mrb_nil_value() : mrb_fixnum_value(md_end(mrb, self, n));
}

static mrb_value matchdata_offset(mrb_state *mrb, mrb_value self)
{
    int n = checked_group(mrb, self);
    mrb_int b = md_begin(mrb, self, n), e = md_end(mrb, self, n);
    mrb_value pair[2] = {mrb_nil_value(), mrb_nil_value()};
    if (b >= 0) {
        pair[0] = mrb_fixnum_value(b);
        pair[1] = mrb_fixnum_value(e);
    }
    return mrb_ary_new_from_values(mrb, 2, pair);
}

static mrb_value matchdata_to_a(mrb_state *mrb, mrb_value self)
{
    int n = md_size(mrb, self);
    mrb_value out = mrb_ary_new_capa(mrb, n);
    for (int i = 0; i < n; i++)
        mrb_ary_push(mrb, out, md_group(mrb, self, i));
    return out;
}

static mrb_value matchdata_captures(mrb_state *mrb, mrb_value self)
{
    mrb_value all = matchdata_to_a(mrb, self);
    return mrb_ary_new_from_values(mrb, RARRAY_LEN(all) - 1, RARRAY_PTR(all) + 1);
}

/* MatchData#[](i) / [](name) / [](start, len) / [](range) */
static mrb_value matchdata_aref(mrb_state *mrb, mrb_value self)
{
    const mrb_value *argv;
    mrb_int argc;
    mrb_get_args(mrb, "*", &argv, &argc);
    if (argc == 1 && !mrb_range_p(argv[0])) {
        mrb_int n = group_arg(mrb, self, argv[0]);
        if (n < 0 && mrb_integer_p(argv[0])) {
            n += md_size(mrb, self);
            if (n <= 0) /* CRuby: m[-size] is nil, not m[0] */
                return mrb_nil_value();
        }
        return md_group(mrb, self, n < 0 || n >= md_size(mrb, self) ? -1 : (int)n);
    }
    return mrb_funcall_argv(mrb, matchdata_to_a(mrb, self), mrb_intern_lit(mrb, "[]"), argc, argv);
}

static mrb_value matchdata_pre_match(mrb_state *mrb, mrb_value self)
{
    return mrb_str_substr(mrb, md_subject(mrb, self), 0, md_begin(mrb, self, 0));
}

static mrb_value matchdata_post_match(mrb_state *mrb, mrb_value self)
{
    mrb_value s = md_subject(mrb, self);
    mrb_int e = md_end(mrb, self, 0);
    return mrb_str_substr(mrb, s, e, RSTRING_LEN(s) - e);
}

static mrb_value matchdata_size(mrb_state *mrb, mrb_value self)
{
    return mrb_fixnum_value(md_size(mrb, self));
}

static mrb_value matchdata_to_s(mrb_state *mrb, mrb_value self)
{
    return md_group(mrb, self, 0);
}

static mrb_value matchdata_string(mrb_state *mrb, mrb_value self)
{
    md_get(mrb, self);
    return md_subject(mrb, self);
}

static mrb_value matchdata_regexp(mrb_state *mrb, mrb_value self)
{
    md_get(mrb, self);
    return mrb_iv_get(mrb, self, mrb_intern_lit(mrb, "__regexp"));
}

static mrb_value matchdata_names(mrb_state *mrb, mrb_value self)
{
    return mrb_funcall(mrb, matchdata_regexp(mrb, self), "names", 0);
}

static mrb_value matchdata_named_captures(mrb_state *mrb, mrb_value self)
{
    mrb_value names = matchdata_names(mrb, self), h = mrb_hash_new(mrb);
    for (mrb_int i = 0; i < RARRAY_LEN(names); i++) {
        mrb_value name = RARRAY_PTR(names)[i];
        int n = md_name_to_group(mrb, self, RSTRING_PTR(name), (size_t)RSTRING_LEN(name), FALSE);
        mrb_hash_set(mrb, h, name, md_group(mrb, self, n));
    }
    return h;
}

typedef struct {
    mrb_state *mrb;
    mrb_value *labels; /* per group number: its name, or nil */
    int n;
} label_ctx;

static int label_group(const OnigUChar *name, const OnigUChar *end, int ngroups, int *groups, regex_t *reg, void *arg)
{
    (void)reg;
    label_ctx *c = arg;
    for (int i = 0; i < ngroups; i++)
        if (groups[i] > 0 && groups[i] < c->n)
            c->labels[groups[i]] = mrb_str_new(c->mrb, (const char *)name, end - name);
    return 0;
}

/* #<MatchData "whole" 1:"g1" name:"g2">, as CRuby prints it. */
static mrb_value matchdata_inspect(mrb_state *mrb, mrb_value self)
{
    md_t *m = md_get(mrb, self);
    int n = md_size(mrb, self);
    mrb_value labels = mrb_ary_new_capa(mrb, n); /* keeps the label strings alive */
    for (int i = 0; i < n; i++)
        mrb_ary_push(mrb, labels, mrb_nil_value());
    label_ctx c = {mrb, RARRAY_PTR(labels), n};
    onig_foreach_name(m->reg, label_group, &c);
    mrb_value out = mrb_str_new_lit(mrb, "#<MatchData ");
    for (int i = 0; i < n; i++) {
        if (i > 0) {
            mrb_value label = RARRAY_PTR(labels)[i];
            mrb_str_cat_lit(mrb, out, " ");
            if (mrb_nil_p(label)) {
                char num[16];
                snprintf(num, sizeof num, "%d", i);
                mrb_str_cat_cstr(mrb, out, num);
            } else {
                mrb_str_cat_str(mrb, out, label);
            }
            mrb_str_cat_lit(mrb, out, ":");
        }
        mrb_str_cat_str(mrb, out, mrb_inspect(mrb, md_group(mrb, self, i)));
    }
    mrb_str_cat_lit(mrb, out, ">");
    return out;
}

/* Store $~ and what derives from it; md nil clears them all (a failed match).
 * Nothing to do in a VM whose code never reads them (re_reads.c). */
void re_set_last_match(mrb_state *mrb, mrb_value md)
{
    static const char *const nth[] = {"$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9"};
    if (!re_vm(mrb)->keep_last_match)
        return;
    mrb_value nil = mrb_nil_value();
    int ai = mrb_gc_arena_save(mrb);
    mrb_bool ok = !mrb_nil_p(md);
    mrb_gv_set(mrb, mrb_intern_lit(mrb, "$~"), md);
    mrb_gv_set(mrb, mrb_intern_lit(mrb, "$&"), ok ? md_group(mrb, md, 0) : nil);
    mrb_gv_set(mrb, mrb_intern_lit(mrb, "$`"), ok ? matchdata_pre_match(mrb, md) : nil);
    mrb_gv_set(mrb, mrb_intern_lit(mrb, "$'"), ok ? matchdata_post_match(mrb, md) : nil);
    int last = ok ? md_size(mrb, md) - 1 : 0;
    while (last > 0 && md_begin(mrb, md, last) < 0)
        last--;
    mrb_gv_set(mrb, mrb_intern_lit(mrb, "$+"), last > 0 ? md_group(mrb, md, last) : nil);
    for (int i = 0; i < 9; i++)
        mrb_gv_set(mrb, mrb_intern_cstr(mrb, nth[i]), ok ? md_group(mrb, md, i + 1) : nil);
    if (ok)
        re_mark_dirty(mrb);
    mrb_gc_arena_restore(mrb, ai);
}

/* Hidden global: set once a match (or re_search.c's text cache) stores
 * something a later handler run must not see; cleared by the reset. */
#define RE_DIRTY "__re_dirty"

void re_mark_dirty(mrb_state *mrb)
{
    mrb_gv_set(mrb, mrb_intern_lit(mrb, RE_DIRTY), mrb_true_value());
}

static mrb_bool gv_set_p(mrb_state *mrb, const char *name, mrb_sym *sym)
{
    *sym = mrb_intern_check_cstr(mrb, name);
    return *sym && !mrb_nil_p(mrb_gv_get(mrb, *sym));
}

static const char *const reset_names[] = {"$~", "$&", "$`", "$'", "$+", "$1", "$2", "$3", "$4",
                                          "$5", "$6", "$7", "$8", "$9", "__re_text", RE_DIRTY};
#define N_RESET (sizeof reset_names / sizeof reset_names[0])
/* Their symbols, interned by every VM at the same point of its set-up
 * (pm_mrb_matchdata_init), hence the same in every VM: looking them up by
 * name before each run cost two symbol-table searches, 16% of a bench
 * message's instructions (callgrind). A VM where they differ turns this off. */
static pthread_mutex_t reset_lock = PTHREAD_MUTEX_INITIALIZER;
static mrb_sym reset_syms[N_RESET];
static atomic_int reset_syms_state; /* 0 not yet known, 1 valid for every VM, 2 off */

static void intern_reset_names(mrb_state *mrb)
{
    mrb_sym syms[N_RESET];
    for (size_t i = 0; i < N_RESET; i++)
        syms[i] = mrb_intern_static(mrb, reset_names[i], strlen(reset_names[i]));
    pthread_mutex_lock(&reset_lock);
    if (atomic_load(&reset_syms_state) == 0) {
        memcpy(reset_syms, syms, sizeof syms);
        atomic_store(&reset_syms_state, 1);
    } else if (memcmp(reset_syms, syms, sizeof syms) != 0)
        atomic_store(&reset_syms_state, 2);
    pthread_mutex_unlock(&reset_lock);
}

/*
 * Runs before every handler, so the common case is two reads: $1..$9, $&,
 * $`, $' and $+ cannot be assigned in Ruby, only re_set_last_match sets them
 * (and marks the VM dirty); $~ can be assigned, so it is checked itself.
 * Only globals that exist are set: nothing is interned or allocated.
 */
void pm_regexp_reset_last_match(mrb_state *mrb)
{
    mrb_sym sym;
    if (atomic_load_explicit(&reset_syms_state, memory_order_acquire) == 1) {
        if (mrb_nil_p(mrb_gv_get(mrb, reset_syms[N_RESET - 1])) && mrb_nil_p(mrb_gv_get(mrb, reset_syms[0])))
            return;
        for (size_t i = 0; i < N_RESET; i++)
            if (!mrb_nil_p(mrb_gv_get(mrb, reset_syms[i])))
                mrb_gv_set(mrb, reset_syms[i], mrb_nil_value());
        return;
    }
    if (!gv_set_p(mrb, RE_DIRTY, &sym) && !gv_set_p(mrb, "$~", &sym))
        return;
    for (size_t i = 0; i < N_RESET; i++)
        if (gv_set_p(mrb, reset_names[i], &sym))
            mrb_gv_set(mrb, sym, mrb_nil_value());
}

void pm_mrb_matchdata_init(mrb_state *mrb)
{
    intern_reset_names(mrb);
    struct RClass *c = mrb_define_class(mrb, "MatchData", mrb->object_class);
    MRB_SET_INSTANCE_TT(c, MRB_TT_DATA);
    mrb_undef_class_method(mrb, c, "new");
    mrb_define_method(mrb, c, "initialize_copy", matchdata_initialize_copy, MRB_ARGS_REQ(1));
    mrb_define_method(mrb, c, "[]", matchdata_aref, MRB_ARGS_ARG(1, 1));
    mrb_define_method(mrb, c, "begin", matchdata_begin, MRB_ARGS_REQ(1));
    mrb_define_method(mrb, c, "end", matchdata_end, MRB_ARGS_REQ(1));
    mrb_define_method(mrb, c, "offset", matchdata_offset, MRB_ARGS_REQ(1));
    mrb_define_method(mrb, c, "to_a", matchdata_to_a, MRB_ARGS_NONE());
    mrb_define_method(mrb, c, "captures", matchdata_captures, MRB_ARGS_NONE());
    mrb_define_method(mrb, c, "named_captures", matchdata_named_captures, MRB_ARGS_NONE());
    mrb_define_method(mrb, c, "names", matchdata_names, MRB_ARGS_NONE());
    mrb_define_method(mrb, c, "pre_match", matchdata_pre_match, MRB_ARGS_NONE());
    mrb_define_method(mrb, c, "post_match", matchdata_post_match, MRB_ARGS_NONE());
    mrb_define_method(mrb, c, "size", matchdata_size, MRB_ARGS_NONE());
    mrb_define_method(mrb, c, "length", matchdata_size, MRB_ARGS_NONE());
    mrb_define_method(mrb, c, "to_s", matchdata_to_s, MRB_ARGS_NONE());
    mrb_define_method(mrb, c, "string", matchdata_string, MRB_ARGS_NONE());
    mrb_define_method(mrb, c, "regexp", matchdata_regexp, MRB_ARGS_NONE());
    mrb_define_method(mrb, c, "inspect", matchdata_inspect, MRB_ARGS_NONE());
}
