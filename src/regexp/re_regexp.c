/*
 * re_regexp.c - the Regexp class: construction, the per-VM literal cache,
 * Regexp.escape, the readers, equality and the match methods.
 *
 * A Regexp is an RData holding re_t (the compiled Oniguruma programs) with
 * its source as the hidden ivar __source. mruby compiles a literal /re/flags
 * into a call Regexp.compile(source[, flags_string[, encoding_string]]) each
 * time it runs, so compile() keeps a Hash per VM (hidden ivar __cache of the
 * class) from options, then source, to a frozen Regexp: each literal is compiled
 * once per VM. All state is in the VM; a VM is used by one thread at a time.
 * DIAGNOSTICS: RegexpError with Oniguruma's message for a bad pattern,
 * TypeError/ArgumentError for bad arguments.
 */
#include <stdlib.h>
#include <string.h>

#include <mruby.h>
#include <mruby/array.h>
#include <mruby/class.h>
#include <mruby/hash.h>
#include <mruby/string.h>
#include <mruby/variable.h>

#include "re_internal.h"

/* Entries kept in the literal cache before it is emptied and refilled. */
#define RE_CACHE_MAX 1024

static void re_free(mrb_state *mrb, void *p)
{
    re_t *r = p;
    if (!r)
        return;
    if (r->utf8)
        onig_free(r->utf8);
    if (r->bin)
        onig_free(r->bin);
    if (r->pcre)
        pcre2_code_free(r->pcre);
    re_uncharge(mrb, r->charged);
    mrb_free(mrb, r);
}

const mrb_data_type re_type = {"Regexp", re_free};

static void vm_state_free(mrb_state *mrb, void *p)
{
    if (!p)
        return;
    re_pcre_vm_free(p);
    re_ruleset_vm_free(p);
    re_vm_search_free(p);
    mrb_free(mrb, p);
}

static const mrb_data_type vm_state_type = {"Regexp VM state", vm_state_free};

/* The VM's matching state: a hidden object in the Regexp class's __vm ivar. */
re_vm_t *re_vm(mrb_state *mrb)
{
    mrb_value v = mrb_iv_get(mrb, mrb_obj_value(re_class(mrb)), mrb_intern_lit(mrb, "__vm"));
    return DATA_CHECK_GET_PTR(mrb, v, &vm_state_type, re_vm_t);
}

static void vm_state_init(mrb_state *mrb, struct RClass *re)
{
    re_vm_t *vm = mrb_calloc(mrb, 1, sizeof *vm);
    struct RData *d = mrb_data_object_alloc(mrb, mrb->object_class, vm, &vm_state_type);
    re_pcre_vm_init(vm);
    re_vm_search_init(mrb, vm);
    mrb_iv_set(mrb, mrb_obj_value(re), mrb_intern_lit(mrb, "__vm"), mrb_obj_value(d));
}

/* Give the Regexp r a PCRE2 program when its pattern translates exactly (re_pcre.c). */
static void attach_pcre(mrb_state *mrb, re_t *r, mrb_value src)
{
    size_t charged = 0;
    r->vm = re_vm(mrb);
    r->pcre = re_pcre_compile(RSTRING_PTR(src), (size_t)RSTRING_LEN(src), r->options, r->utf8, &r->pcre_refused);
    if (r->pcre && re_charge(mrb, re_pcre_size(r->pcre), &charged) != 0) {
        pcre2_code_free(r->pcre); /* over budget: Oniguruma alone still answers */
        r->pcre = NULL;
        r->pcre_refused = "memory budget";
    }
    r->charged += charged;
}

struct RClass *re_class(mrb_state *mrb)
{
    return mrb_class_get(mrb, "Regexp");
}

re_t *re_get(mrb_state *mrb, mrb_value re)
{
    re_t *r = DATA_CHECK_GET_PTR(mrb, re, &re_type, re_t);
    if (!r)
        mrb_raise(mrb, E_TYPE_ERROR, "uninitialized Regexp");
    return r;
}

mrb_value re_source(mrb_state *mrb, mrb_value re)
{
    return mrb_iv_get(mrb, re, mrb_intern_lit(mrb, "__source"));
}

/*
 * Options from Regexp.new's second and third arguments. An Integer is the
 * bits; a String is option letters (what mruby's literal passes; CRuby 3.2+
 * reads it the same way); nil/false is none; anything else is IGNORECASE.
 * The third argument "n" is the /n literal flag.
 */
static int parse_options(mrb_state *mrb, mrb_value opts, mrb_value enc)
{
    int o = 0;
    if (mrb_integer_p(opts)) {
        o = (int)mrb_integer(opts) & (RE_IGNORECASE | RE_EXTENDED | RE_MULTILINE | RE_FIXEDENCODING | RE_NOENCODING);
    } else if (mrb_string_p(opts)) {
        const char *p = RSTRING_PTR(opts);
        for (mrb_int i = 0; i < RSTRING_LEN(opts); i++) {
            switch (p[i]) {
            case 'i': o |= RE_IGNORECASE; break;
            case 'x': o |= RE_EXTENDED; break;
            case 'm': o |= RE_MULTILINE; break;
            default: mrb_raisef(mrb, E_ARGUMENT_ERROR, "unknown regexp option: %v", opts);
            }
        }
    } else if (mrb_test(opts)) {
        o = RE_IGNORECASE;
    }
    if (mrb_string_p(enc) && RSTRING_LEN(enc) > 0) {
        char e = RSTRING_PTR(enc)[0];
        if (e == 'n' || e == 'N')
            o |= RE_NOENCODING;
        else
            o |= RE_FIXEDENCODING;
    }
    return o;
}

static mrb_bool has_non_ascii(mrb_value s)
{
    const unsigned char *p = (const unsigned char *)RSTRING_PTR(s);
    for (mrb_int i = 0; i < RSTRING_LEN(s); i++)
        if (p[i] >= 0x80)
            return TRUE;
    return FALSE;
}

/* Source and options a (src, opts, enc) argument list stands for. */
static int source_and_options(mrb_state *mrb, mrb_int argc, const mrb_value *argv, mrb_value *src)
{
    if (argc < 1 || argc > 3)
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "wrong number of arguments (given %i, expected 1..3)", argc);
    mrb_value pat = argv[0];
    if (mrb_data_p(pat) && DATA_TYPE(pat) == &re_type) {
        *src = re_source(mrb, pat);
        return re_get(mrb, pat)->options;
    }
    if (mrb_symbol_p(pat))
        pat = mrb_sym_str(mrb, mrb_symbol(pat));
    if (!mrb_string_p(pat))
        mrb_raisef(mrb, E_TYPE_ERROR, "no implicit conversion of %T into String", pat);
    *src = pat;
    int o = parse_options(mrb, argc > 1 ? argv[1] : mrb_nil_value(), argc > 2 ? argv[2] : mrb_nil_value());
    if (has_non_ascii(pat) && !(o & RE_NOENCODING))
        o |= RE_FIXEDENCODING;
    return o;
}

/*
 * Regexp#initialize(source_or_regexp, options = nil, encoding = nil).
 * Builds everything first and attaches the compiled program last, so a bad
 * pattern leaves the object as it was. Once attached, a program is never
 * replaced ("already initialized regexp", as CRuby): a MatchData borrows it
 * and keeps this Regexp alive through its __regexp ivar.
 */
static mrb_value regexp_initialize(mrb_state *mrb, mrb_value self)
{
    const mrb_value *argv;
    mrb_int argc;
    mrb_value src;
    char err[600];

    mrb_get_args(mrb, "*", &argv, &argc);
    mrb_check_frozen(mrb, mrb_basic_ptr(self));
    if (!mrb_data_p(self) || (DATA_TYPE(self) && DATA_TYPE(self) != &re_type))
        mrb_raise(mrb, E_TYPE_ERROR, "not a Regexp");
    if (DATA_PTR(self))
        mrb_raise(mrb, E_TYPE_ERROR, "already initialized regexp");
    int options = source_and_options(mrb, argc, argv, &src);
    src = mrb_str_dup(mrb, src);
    mrb_obj_freeze(mrb, src);
    /* Set first: from here until the attach, nothing may raise with r unattached. */
    mrb_iv_set(mrb, self, mrb_intern_lit(mrb, "__source"), src);
    re_t *r = mrb_calloc(mrb, 1, sizeof *r);
    r->options = options;
    /* Charged before compiling: a pattern over budget costs neither the memory nor the time. */
    if (re_charge(mrb, re_program_cost(RSTRING_PTR(src), (size_t)RSTRING_LEN(src), options), &r->charged) != 0) {
        mrb_free(mrb, r);
        mrb_raise_nomemory(mrb);
    }
    if (re_compile(RSTRING_PTR(src), (size_t)RSTRING_LEN(src), options, ONIG_ENCODING_UTF8, &r->utf8, err, sizeof err) < 0) {
        re_free(mrb, r);
        mrb_raise(mrb, mrb_class_get(mrb, "RegexpError"), err);
    }
    attach_pcre(mrb, r, src);
    DATA_TYPE(self) = &re_type;
    DATA_PTR(self) = r;
    return self;
}

/* Regexp#initialize_copy(orig), for dup and clone: a program of its own. */
static mrb_value regexp_initialize_copy(mrb_state *mrb, mrb_value self)
{
    mrb_value orig;
    mrb_get_args(mrb, "o", &orig);
    if (!re_is_regexp(orig))
        mrb_raise(mrb, E_TYPE_ERROR, "initialize_copy should take same class object");
    mrb_value args[2] = {re_source(mrb, orig), mrb_fixnum_value(re_get(mrb, orig)->options)};
    return mrb_funcall_argv(mrb, self, mrb_intern_lit(mrb, "initialize"), 2, args);
}

/*
 * Regexp.compile(...): like new, but one frozen object per (source, options)
 * per VM. The cache is a Hash of options to a Hash of source to Regexp, so a
 * lookup builds no key: a literal's second and later runs allocate nothing here.
 */
static mrb_value regexp_s_compile(mrb_state *mrb, mrb_value klass)
{
    const mrb_value *argv;
    mrb_int argc;
    mrb_value src;

    mrb_get_args(mrb, "*!", &argv, &argc); /* no copy: argv is read before anything can move the stack */
    int options = source_and_options(mrb, argc, argv, &src);
    mrb_sym cache_sym = mrb_intern_lit(mrb, "__cache");
    mrb_value cache = mrb_iv_get(mrb, klass, cache_sym);
    if (!mrb_hash_p(cache)) {
        cache = mrb_hash_new(mrb);
        mrb_iv_set(mrb, klass, cache_sym, cache);
    }
    mrb_value by_source = mrb_hash_get(mrb, cache, mrb_fixnum_value(options));
    if (!mrb_hash_p(by_source)) {
        by_source = mrb_hash_new(mrb);
        mrb_hash_set(mrb, cache, mrb_fixnum_value(options), by_source);
    }
    mrb_value re = mrb_hash_get(mrb, by_source, src);
    if (!mrb_nil_p(re))
        return re;
    mrb_value args[2] = {src, mrb_fixnum_value(options)};
    re = mrb_obj_new(mrb, mrb_class_ptr(klass), 2, args);
    mrb_obj_freeze(mrb, re);
    if (mrb_hash_size(mrb, by_source) >= RE_CACHE_MAX)
        mrb_hash_clear(mrb, by_source);
    mrb_hash_set(mrb, by_source, src, re);
    return re;
}

/* Regexp.escape(str): backslash every metacharacter, as CRuby's rb_reg_quote. */
static mrb_value regexp_s_escape(mrb_state *mrb, mrb_value self)
{
    (void)self;
    mrb_value s;
    mrb_get_args(mrb, "o", &s);
    if (mrb_symbol_p(s))
        s = mrb_sym_str(mrb, mrb_symbol(s));
    if (!mrb_string_p(s))
        mrb_raisef(mrb, E_TYPE_ERROR, "no implicit conversion of %T into String", s);
    mrb_value out = mrb_str_new_capa(mrb, (size_t)RSTRING_LEN(s) + 8);
    for (mrb_int i = 0; i < RSTRING_LEN(s); i++) {
        char c = RSTRING_PTR(s)[i];
        const char *esc = NULL;
        switch (c) {
        case '[': case ']': case '{': case '}': case '(': case ')': case '|': case '-':
        case '*': case '.': case '\\': case '?': case '+': case '^': case '$': case '#': case ' ':
            mrb_str_cat_lit(mrb, out, "\\");
            break;
        case '\t': esc = "\\t"; break;
        case '\f': esc = "\\f"; break;
        case '\v': esc = "\\v"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        default: break;
        }
        if (esc)
            mrb_str_cat_cstr(mrb, out, esc);
        else
            mrb_str_cat(mrb, out, &c, 1);
    }
    return out;
}

/* A Regexp for a String-or-Regexp argument; quote: match the string literally. */
mrb_value re_from_pattern(mrb_state *mrb, mrb_value pat, mrb_bool quote)
{
    if (mrb_data_p(pat) && DATA_TYPE(pat) == &re_type)
        return pat;
    if (!mrb_string_p(pat))
        mrb_raisef(mrb, E_TYPE_ERROR, "wrong argument type %T (expected Regexp)", pat);
    if (quote)
        pat = mrb_funcall(mrb, mrb_obj_value(re_class(mrb)), "escape", 1, pat);
    return mrb_obj_new(mrb, re_class(mrb), 1, &pat);
}

static mrb_value regexp_source(mrb_state *mrb, mrb_value self)
{
    re_get(mrb, self);
    return re_source(mrb, self);
}

static mrb_value regexp_options(mrb_state *mrb, mrb_value self)
{
    return mrb_fixnum_value(re_get(mrb, self)->options);
}

static mrb_value regexp_inspect(mrb_state *mrb, mrb_value self)
{
    re_t *r = re_get(mrb, self);
    mrb_value src = re_source(mrb, self);
    size_t cap = (size_t)RSTRING_LEN(src) * 4 + 16;
    char *buf = mrb_malloc(mrb, cap);
    re_describe(RSTRING_PTR(src), (size_t)RSTRING_LEN(src), r->options, buf, cap);
    mrb_value out = mrb_str_new_cstr(mrb, buf);
    mrb_free(mrb, buf);
    return out;
}

/* Regexp#to_s: "(?mi-x:source)", the form that embeds in another pattern. */
static mrb_value regexp_to_s(mrb_state *mrb, mrb_value self)
{
    static const struct { int bit; char letter; } flags[] = {{RE_MULTILINE, 'm'}, {RE_IGNORECASE, 'i'}, {RE_EXTENDED, 'x'}};
    re_t *r = re_get(mrb, self);
    mrb_value desc = regexp_inspect(mrb, self); /* "/src/flags": reuse its escaping */
    const char *d = RSTRING_PTR(desc);
    mrb_int end = RSTRING_LEN(desc) - 1;
    while (end > 0 && d[end] != '/')
        end--;
    mrb_value out = mrb_str_new_lit(mrb, "(?");
    for (int on = 1; on >= 0; on--) {
        if (!on && (r->options & 7) != 7)
            mrb_str_cat_lit(mrb, out, "-");
        for (int i = 0; i < 3; i++)
            if (!!(r->options & flags[i].bit) == on)
                mrb_str_cat(mrb, out, &flags[i].letter, 1);
    }
    mrb_str_cat_lit(mrb, out, ":");
    mrb_str_cat(mrb, out, d + 1, (size_t)(end - 1));
    mrb_str_cat_lit(mrb, out, ")");
    return out;
}

static mrb_value regexp_eq(mrb_state *mrb, mrb_value self)
{
    mrb_value other;
    mrb_get_args(mrb, "o", &other);
    if (!mrb_data_p(other) || DATA_TYPE(other) != &re_type || !DATA_PTR(other))
        return mrb_false_value();
    if (re_get(mrb, self)->options != re_get(mrb, other)->options)
        return mrb_false_value();
    return mrb_bool_value(mrb_str_equal(mrb, re_source(mrb, self), re_source(mrb, other)));
}

static mrb_value regexp_hash(mrb_state *mrb, mrb_value self)
{
    mrb_value h = mrb_funcall(mrb, re_source(mrb, self), "hash", 0);
    return mrb_fixnum_value(mrb_integer(h) ^ re_get(mrb, self)->options);
}

typedef struct {
    int first; /* lowest group number of the name: orders names as written */
    const OnigUChar *name, *end;
} name_entry;

typedef struct {
    name_entry *v;
    int n, cap;
} name_list;

static int collect_name(const OnigUChar *name, const OnigUChar *end, int ngroups, int *groups, regex_t *reg, void *arg)
{
    (void)reg;
    name_list *l = arg;
    if (l->n >= l->cap || ngroups < 1)
        return 0;
    int first = groups[0];
    for (int i = 1; i < ngroups; i++)
        if (groups[i] < first)
            first = groups[i];
    l->v[l->n++] = (name_entry){first, name, end};
    return 0;
}

static int by_first_group(const void *a, const void *b)
{
    return ((const name_entry *)a)->first - ((const name_entry *)b)->first;
}

/* Regexp#names: group names in the order they appear in the pattern. */
static mrb_value regexp_names(mrb_state *mrb, mrb_value self)
{
    regex_t *reg = re_get(mrb, self)->utf8;
    int n = onig_number_of_names(reg);
    mrb_value out = mrb_ary_new_capa(mrb, n);
    if (n <= 0)
        return out;
    name_list l = {mrb_calloc(mrb, (size_t)n, sizeof(name_entry)), 0, n};
    onig_foreach_name(reg, collect_name, &l);
    qsort(l.v, (size_t)l.n, sizeof(name_entry), by_first_group);
    for (int i = 0; i < l.n; i++)
        mrb_ary_push(mrb, out, mrb_str_new(mrb, (const char *)l.v[i].name, l.v[i].end - l.v[i].name));
    mrb_free(mrb, l.v);
    return out;
}

/* The subject of a match method: a String, a Symbol's name, or nil. */
static mrb_value subject_arg(mrb_state *mrb, mrb_value s)
{
    if (mrb_nil_p(s) || mrb_string_p(s))
        return s;
    if (mrb_symbol_p(s))
        return mrb_sym_str(mrb, mrb_symbol(s));
    mrb_raisef(mrb, E_TYPE_ERROR, "no implicit conversion of %T into String", s);
    return mrb_nil_value();
}

/* Regexp#match(str, pos = 0) { |m| ... }: sets $~. */
static mrb_value regexp_match(mrb_state *mrb, mrb_value self)
{
    mrb_value str, blk = mrb_nil_value();
    mrb_int pos = 0;
    mrb_get_args(mrb, "o|i&", &str, &pos, &blk);
    str = subject_arg(mrb, str);
    mrb_value md = mrb_nil_p(str) ? str : re_search_str(mrb, self, str, pos, FALSE);
    re_set_last_match(mrb, md);
    if (!mrb_nil_p(md) && !mrb_nil_p(blk))
        return mrb_yield(mrb, blk, md);
    return md;
}

/* Regexp#=~(str): byte offset of the match or nil; sets $~ when some code
 * of the VM may read it, else matches like match? (pm_regexp_keep_last_match). */
static mrb_value regexp_match_op(mrb_state *mrb, mrb_value self)
{
    mrb_value str;
    mrb_get_args(mrb, "o", &str);
    str = subject_arg(mrb, str);
    if (!re_get(mrb, self)->vm->keep_last_match) {
        mrb_int pos = mrb_nil_p(str) ? -1 : re_match_pos(mrb, self, str, 0);
        return pos < 0 ? mrb_nil_value() : mrb_fixnum_value(pos);
    }
    mrb_value md = mrb_nil_p(str) ? str : re_search_str(mrb, self, str, 0, FALSE);
    re_set_last_match(mrb, md);
    return mrb_nil_p(md) ? md : mrb_fixnum_value(md_begin(mrb, md, 0));
}

/* Regexp#===(obj): for case/when; false for non-strings; sets $~ as =~ does. */
static mrb_value regexp_eqq(mrb_state *mrb, mrb_value self)
{
    mrb_value str;
    mrb_get_args(mrb, "o", &str);
    if (mrb_symbol_p(str))
        str = mrb_sym_str(mrb, mrb_symbol(str));
    if (!re_get(mrb, self)->vm->keep_last_match)
        return mrb_bool_value(mrb_string_p(str) && re_match_pos(mrb, self, str, 0) >= 0);
    mrb_value md = mrb_string_p(str) ? re_search_str(mrb, self, str, 0, FALSE) : mrb_nil_value();
    re_set_last_match(mrb, md);
    return mrb_bool_value(!mrb_nil_p(md));
}

/* Regexp.last_match(n = nil): $~, or its group n (C, so that no prelude reads $~: re_reads.c). */
static mrb_value regexp_s_last_match(mrb_state *mrb, mrb_value self)
{
    (void)self;
    mrb_value n = mrb_nil_value();
    mrb_get_args(mrb, "|o", &n);
    mrb_value md = mrb_gv_get(mrb, mrb_intern_lit(mrb, "$~"));
    if (mrb_nil_p(n) || mrb_nil_p(md))
        return md;
    return mrb_funcall_argv(mrb, md, mrb_intern_lit(mrb, "[]"), 1, &n);
}

/* Regexp.__keeps_last_match: does this VM set $~ on =~ (for tests; docs/regexp.md)? */
static mrb_value regexp_s_keeps_last_match(mrb_state *mrb, mrb_value self)
{
    (void)self;
    return mrb_bool_value(re_vm(mrb)->keep_last_match);
}

/* Regexp#match?(str, pos = 0): leaves $~ alone. */
static mrb_value regexp_match_p(mrb_state *mrb, mrb_value self)
{
    mrb_value str;
    mrb_int pos = 0;
    mrb_get_args(mrb, "o|i", &str, &pos);
    str = subject_arg(mrb, str);
    if (mrb_nil_p(str))
        return mrb_false_value();
    return mrb_bool_value(re_match_p(mrb, self, str, pos));
}

/* Regexp#__engine: "pcre2", or "oniguruma: why" (for tests and debugging; docs/regexp.md). */
static mrb_value regexp_engine(mrb_state *mrb, mrb_value self)
{
    re_t *r = re_get(mrb, self);
    if (r->pcre)
        return mrb_str_new_lit(mrb, "pcre2");
    mrb_value out = mrb_str_new_lit(mrb, "oniguruma: ");
    return mrb_str_cat_cstr(mrb, out, r->pcre_refused ? r->pcre_refused : "?");
}

void pm_mrb_regexp_class_init(mrb_state *mrb)
{
    struct RClass *re = mrb_define_class(mrb, "Regexp", mrb->object_class);
    MRB_SET_INSTANCE_TT(re, MRB_TT_DATA);
    mrb_define_class(mrb, "RegexpError", mrb->eStandardError_class);
    vm_state_init(mrb, re);
    mrb_define_const(mrb, re, "IGNORECASE", mrb_fixnum_value(RE_IGNORECASE));
    mrb_define_const(mrb, re, "EXTENDED", mrb_fixnum_value(RE_EXTENDED));
    mrb_define_const(mrb, re, "MULTILINE", mrb_fixnum_value(RE_MULTILINE));
    mrb_define_const(mrb, re, "FIXEDENCODING", mrb_fixnum_value(RE_FIXEDENCODING));
    mrb_define_const(mrb, re, "NOENCODING", mrb_fixnum_value(RE_NOENCODING));

    mrb_define_class_method(mrb, re, "compile", regexp_s_compile, MRB_ARGS_ARG(1, 2));
    mrb_define_class_method(mrb, re, "escape", regexp_s_escape, MRB_ARGS_REQ(1));
    mrb_define_class_method(mrb, re, "quote", regexp_s_escape, MRB_ARGS_REQ(1));
    mrb_define_class_method(mrb, re, "last_match", regexp_s_last_match, MRB_ARGS_OPT(1));
    mrb_define_class_method(mrb, re, "__keeps_last_match", regexp_s_keeps_last_match, MRB_ARGS_NONE());
    mrb_define_method(mrb, re, "initialize", regexp_initialize, MRB_ARGS_ARG(1, 2));
    mrb_define_method(mrb, re, "initialize_copy", regexp_initialize_copy, MRB_ARGS_REQ(1));
    mrb_define_method(mrb, re, "source", regexp_source, MRB_ARGS_NONE());
    mrb_define_method(mrb, re, "options", regexp_options, MRB_ARGS_NONE());
    mrb_define_method(mrb, re, "inspect", regexp_inspect, MRB_ARGS_NONE());
    mrb_define_method(mrb, re, "to_s", regexp_to_s, MRB_ARGS_NONE());
    mrb_define_method(mrb, re, "==", regexp_eq, MRB_ARGS_REQ(1));
    mrb_define_method(mrb, re, "eql?", regexp_eq, MRB_ARGS_REQ(1));
    mrb_define_method(mrb, re, "hash", regexp_hash, MRB_ARGS_NONE());
    mrb_define_method(mrb, re, "names", regexp_names, MRB_ARGS_NONE());
    mrb_define_method(mrb, re, "match", regexp_match, MRB_ARGS_ARG(1, 1) | MRB_ARGS_BLOCK());
    mrb_define_method(mrb, re, "=~", regexp_match_op, MRB_ARGS_REQ(1));
    mrb_define_method(mrb, re, "===", regexp_eqq, MRB_ARGS_REQ(1));
    mrb_define_method(mrb, re, "match?", regexp_match_p, MRB_ARGS_ARG(1, 1));
    mrb_define_method(mrb, re, "__engine", regexp_engine, MRB_ARGS_NONE());
}
