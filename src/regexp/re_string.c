/*
 * re_string.c - the String methods that take a Regexp: =~, match, match?,
 * scan, sub, gsub (and !), split, index, rindex, [], slice, start_with?,
 * partition and rpartition.
 *
 * mruby's own String methods are kept under the alias __pm_orig_<name>; each
 * method here handles a Regexp argument and hands anything else to the
 * original, so String patterns behave exactly as before. Loops search a
 * frozen snapshot of the subject (a block cannot move it under us) and
 * reset the GC arena every round. Follows CRuby 3.1's string.c and re.c.
 */
#include <string.h>

#include <mruby.h>
#include <mruby/array.h>
#include <mruby/class.h>
#include <mruby/hash.h>
#include <mruby/string.h>

#include "re_internal.h"

/* Call mruby's original String method under its __pm_orig_ alias. */
static mrb_value call_orig(mrb_state *mrb, mrb_value self, const char *name, mrb_int argc, const mrb_value *argv, mrb_value blk)
{
    char alias[64];
    snprintf(alias, sizeof alias, "__pm_orig_%s", name);
    return mrb_funcall_with_block(mrb, self, mrb_intern_cstr(mrb, alias), argc, argv, blk);
}

static mrb_value substr(mrb_state *mrb, mrb_value s, mrb_int beg, mrb_int len)
{
    return mrb_str_substr(mrb, s, beg, len);
}

/*
 * Expand a sub/gsub replacement string for one match: \0 \& \1..\9 \k<name>
 * \` \' \+ \\, as CRuby's rb_reg_regsub; anything else after a backslash is
 * kept as written. \1..\9 expand to nothing when the pattern has named groups
 * (Ruby does not number unnamed groups then).
 */
static mrb_value expand(mrb_state *mrb, mrb_value repl, mrb_value md)
{
    const char *p = RSTRING_PTR(repl), *e = p + RSTRING_LEN(repl), *lit = p;
    mrb_value subj = md_subject(mrb, md);
    md_t *m = md_get(mrb, md);
    mrb_value out = mrb_str_new_capa(mrb, (size_t)RSTRING_LEN(repl));

    while (p < e) {
        if (*p != '\\' || p + 1 == e) {
            p++;
            continue;
        }
        mrb_str_cat(mrb, out, lit, (size_t)(p - lit));
        const char *bs = p;
        char c = p[1];
        p += 2;
        lit = p;
        int no = -1;
        switch (c) {
        case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9':
            if (onig_noname_group_capture_is_active(m->reg))
                no = c - '0';
            break;
        case 'k': {
            if (p >= e || *p != '<') {
                mrb_str_cat(mrb, out, bs, 2);
                break;
            }
            const char *name = p + 1, *end = name;
            while (end < e && *end != '>')
                end++;
            if (end == e)
                mrb_raise(mrb, E_RUNTIME_ERROR, "invalid group name reference format");
            no = md_name_to_group(mrb, md, name, (size_t)(end - name), TRUE);
            p = lit = end + 1;
            break;
        }
        case '0': case '&':
            no = 0;
            break;
        case '`':
            mrb_str_cat(mrb, out, RSTRING_PTR(subj), (size_t)md_begin(mrb, md, 0));
            break;
        case '\'':
            mrb_str_cat(mrb, out, RSTRING_PTR(subj) + md_end(mrb, md, 0), (size_t)(RSTRING_LEN(subj) - md_end(mrb, md, 0)));
            break;
        case '+':
            no = m->region->num_regs - 1;
            while (no > 0 && m->region->beg[no] < 0)
                no--;
            if (no == 0)
                no = -1;
            break;
        case '\\':
            mrb_str_cat_lit(mrb, out, "\\");
            break;
        default:
            mrb_str_cat(mrb, out, bs, 2);
            break;
        }
        if (no >= 0 && no < m->region->num_regs && m->region->beg[no] >= 0)
            mrb_str_cat(mrb, out, RSTRING_PTR(subj) + m->region->beg[no], (size_t)(m->region->end[no] - m->region->beg[no]));
    }
    mrb_str_cat(mrb, out, lit, (size_t)(e - lit));
    return out;
}

/* sub/gsub (bang or not) with a Regexp: argv is (re, repl) or (re) + block. */
static mrb_value substitute(mrb_state *mrb, mrb_value self, mrb_int argc, const mrb_value *argv, mrb_value blk, mrb_bool global,
                            mrb_bool bang)
{
    mrb_value re = argv[0], repl = argc > 1 ? argv[1] : mrb_nil_value();
    if (argc > 2 || (argc == 1 && mrb_nil_p(blk)))
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "wrong number of arguments (given %i, expected 1..2)", argc);
    enum { STRING, HASH, BLOCK } mode = argc == 1 ? BLOCK : mrb_hash_p(repl) ? HASH : STRING;
    if (mode == STRING && !mrb_string_p(repl))
        mrb_raisef(mrb, E_TYPE_ERROR, "no implicit conversion of %T into String", repl);
    if (bang)
        mrb_check_frozen(mrb, mrb_basic_ptr(self));

    mrb_value snap = re_snapshot(mrb, self);
    regex_t *reg = re_for_subject(mrb, re, snap);
    mrb_value md = re_search(mrb, re, reg, snap, 0, FALSE);
    if (mrb_nil_p(md)) {
        re_set_last_match(mrb, md);
        return bang ? mrb_nil_value() : mrb_str_dup(mrb, self);
    }
    const char *p = RSTRING_PTR(snap);
    mrb_int len = RSTRING_LEN(snap), offset = 0;
    mrb_value dest = mrb_str_new_capa(mrb, (size_t)len);
    int ai = mrb_gc_arena_save(mrb);
    for (;;) {
        mrb_int b = md_begin(mrb, md, 0), e = md_end(mrb, md, 0);
        mrb_value val;
        if (mode == BLOCK) {
            re_set_last_match(mrb, md);
            val = mrb_obj_as_string(mrb, mrb_yield(mrb, blk, md_group(mrb, md, 0)));
        } else if (mode == HASH) {
            val = mrb_obj_as_string(mrb, mrb_hash_get(mrb, repl, md_group(mrb, md, 0)));
        } else {
            val = expand(mrb, repl, md);
        }
        mrb_str_cat(mrb, dest, p + offset, (size_t)(b - offset));
        mrb_str_cat_str(mrb, dest, val);
        offset = e;
        if (b == e) { /* an empty match: copy one character and step over it */
            if (e >= len)
                break;
            mrb_int n = re_char_len(reg, snap, e);
            mrb_str_cat(mrb, dest, p + e, (size_t)n);
            offset = e + n;
        }
        if (!global || offset > len)
            break;
        mrb_value next = re_search(mrb, re, reg, snap, offset, FALSE);
        if (mrb_nil_p(next))
            break;
        md = next;
        mrb_gc_arena_restore(mrb, ai);
        mrb_gc_protect(mrb, md);
    }
    if (offset < len)
        mrb_str_cat(mrb, dest, p + offset, (size_t)(len - offset));
    re_set_last_match(mrb, md);
    if (!bang)
        return dest;
    mrb_funcall(mrb, self, "replace", 1, dest);
    return self;
}

#define SUBST_METHOD(fn, name, global, bang)                                                                                   \
    static mrb_value fn(mrb_state *mrb, mrb_value self)                                                                        \
    {                                                                                                                          \
        const mrb_value *argv;                                                                                                 \
        mrb_int argc;                                                                                                          \
        mrb_value blk = mrb_nil_value();                                                                                       \
        mrb_get_args(mrb, "*&", &argv, &argc, &blk);                                                                           \
        if (argc < 1 || !re_is_regexp(argv[0]))                                                                                \
            return call_orig(mrb, self, name, argc, argv, blk);                                                                \
        return substitute(mrb, self, argc, argv, blk, global, bang);                                                           \
    }
SUBST_METHOD(string_sub, "sub", FALSE, FALSE)
SUBST_METHOD(string_sub_bang, "sub!", FALSE, TRUE)
SUBST_METHOD(string_gsub, "gsub", TRUE, FALSE)
SUBST_METHOD(string_gsub_bang, "gsub!", TRUE, TRUE)

/* String#scan(pattern) [{ |match_or_groups| }]: a String pattern matches literally. */
static mrb_value string_scan(mrb_state *mrb, mrb_value self)
{
    mrb_value pat, blk = mrb_nil_value();
    mrb_get_args(mrb, "o&", &pat, &blk);
    mrb_value re = re_from_pattern(mrb, pat, TRUE);
    mrb_value snap = re_snapshot(mrb, self);
    regex_t *reg = re_for_subject(mrb, re, snap);
    mrb_value result = mrb_ary_new(mrb), last = mrb_nil_value();
    mrb_int start = 0, len = RSTRING_LEN(snap);
    int ai = mrb_gc_arena_save(mrb);
    while (start <= len) {
        mrb_value md = re_search(mrb, re, reg, snap, start, FALSE);
        if (mrb_nil_p(md))
            break;
        mrb_int b = md_begin(mrb, md, 0), e = md_end(mrb, md, 0);
        start = b == e ? e + re_char_len(reg, snap, e) : e;
        int ngroups = md_get(mrb, md)->region->num_regs;
        mrb_value item;
        if (ngroups == 1) {
            item = md_group(mrb, md, 0);
        } else {
            item = mrb_ary_new_capa(mrb, ngroups - 1);
            for (int i = 1; i < ngroups; i++)
                mrb_ary_push(mrb, item, md_group(mrb, md, i));
        }
        if (mrb_nil_p(blk)) {
            mrb_ary_push(mrb, result, item);
        } else {
            re_set_last_match(mrb, md);
            mrb_yield(mrb, blk, item);
        }
        last = md;
        mrb_gc_arena_restore(mrb, ai);
        mrb_gc_protect(mrb, last);
    }
    re_set_last_match(mrb, last);
    return mrb_nil_p(blk) ? result : self;
}

/* String#split(regexp, limit = 0), following CRuby's rb_str_split_m. */
static mrb_value split_regexp(mrb_state *mrb, mrb_value self, mrb_value re, mrb_bool has_limit, mrb_int lim)
{
    mrb_value snap = re_snapshot(mrb, self);
    mrb_int len = RSTRING_LEN(snap), beg = 0, start = 0, i = 0;
    mrb_bool limited = FALSE, last_null = FALSE;
    mrb_value result = mrb_ary_new(mrb);

    if (has_limit && lim > 0) {
        if (lim == 1) {
            if (len > 0)
                mrb_ary_push(mrb, result, mrb_str_dup(mrb, self));
            return result;
        }
        limited = TRUE;
        i = 1;
    }
    regex_t *reg = re_for_subject(mrb, re, snap);
    int ai = mrb_gc_arena_save(mrb);
    for (;;) {
        mrb_value md = re_search(mrb, re, reg, snap, start, FALSE);
        if (mrb_nil_p(md))
            break;
        mrb_int b = md_begin(mrb, md, 0), e = md_end(mrb, md, 0);
        if (start == b && b == e) {
            if (len == 0) {
                mrb_ary_push(mrb, result, mrb_str_new_lit(mrb, ""));
                break;
            } else if (last_null) {
                mrb_ary_push(mrb, result, substr(mrb, snap, beg, re_char_len(reg, snap, beg)));
                beg = start;
            } else {
                start += start == len ? 1 : re_char_len(reg, snap, start);
                last_null = TRUE;
                mrb_gc_arena_restore(mrb, ai);
                continue;
            }
        } else {
            mrb_ary_push(mrb, result, substr(mrb, snap, beg, b - beg));
            beg = start = e;
        }
        last_null = FALSE;
        int ngroups = md_get(mrb, md)->region->num_regs;
        for (int g = 1; g < ngroups; g++)
            if (md_begin(mrb, md, g) >= 0)
                mrb_ary_push(mrb, result, md_group(mrb, md, g));
        mrb_gc_arena_restore(mrb, ai);
        if (limited && lim <= ++i)
            break;
    }
    if (len > 0 && (limited || len > beg || lim < 0))
        mrb_ary_push(mrb, result, substr(mrb, snap, beg, len - beg));
    if (!limited && lim == 0)
        while (RARRAY_LEN(result) > 0 && RSTRING_LEN(RARRAY_PTR(result)[RARRAY_LEN(result) - 1]) == 0)
            mrb_ary_pop(mrb, result);
    return result;
}

static mrb_value string_split(mrb_state *mrb, mrb_value self)
{
    const mrb_value *argv;
    mrb_int argc;
    mrb_get_args(mrb, "*", &argv, &argc);
    if (argc < 1 || !re_is_regexp(argv[0]))
        return call_orig(mrb, self, "split", argc, argv, mrb_nil_value());
    if (argc > 2)
        mrb_raisef(mrb, E_ARGUMENT_ERROR, "wrong number of arguments (given %i, expected 0..2)", argc);
    mrb_bool has_limit = argc == 2 && !mrb_nil_p(argv[1]);
    return split_regexp(mrb, self, argv[0], has_limit, has_limit ? mrb_as_int(mrb, argv[1]) : 0);
}

/* String#index(regexp, pos = 0) / #rindex(regexp, pos = size): byte offsets; set $~. */
static mrb_value find(mrb_state *mrb, mrb_value self, const char *name, mrb_bool backward)
{
    const mrb_value *argv;
    mrb_int argc;
    mrb_get_args(mrb, "*", &argv, &argc);
    if (argc < 1 || argc > 2 || !re_is_regexp(argv[0]))
        return call_orig(mrb, self, name, argc, argv, mrb_nil_value());
    mrb_int len = RSTRING_LEN(self);
    mrb_int pos = argc == 2 ? mrb_as_int(mrb, argv[1]) : backward ? len : 0;
    if (pos < 0)
        pos += len;
    if (pos < 0 || (!backward && pos > len)) {
        re_set_last_match(mrb, mrb_nil_value());
        return mrb_nil_value();
    }
    if (pos > len)
        pos = len;
    mrb_value md = re_search_str(mrb, argv[0], self, pos, backward);
    re_set_last_match(mrb, md);
    return mrb_nil_p(md) ? md : mrb_fixnum_value(md_begin(mrb, md, 0));
}

static mrb_value string_index(mrb_state *mrb, mrb_value self)
{
    return find(mrb, self, "index", FALSE);
}

static mrb_value string_rindex(mrb_state *mrb, mrb_value self)
{
    return find(mrb, self, "rindex", TRUE);
}

/* String#[](regexp, capture = 0) and #slice: sets $~. */
static mrb_value string_aref(mrb_state *mrb, mrb_value self)
{
    const mrb_value *argv;
    mrb_int argc;
    mrb_get_args(mrb, "*", &argv, &argc);
    if (argc < 1 || argc > 2 || !re_is_regexp(argv[0]))
        return call_orig(mrb, self, "[]", argc, argv, mrb_nil_value());
    mrb_value md = re_search_str(mrb, argv[0], self, 0, FALSE);
    re_set_last_match(mrb, md);
    if (mrb_nil_p(md))
        return md;
    mrb_value idx = argc == 2 ? argv[1] : mrb_fixnum_value(0);
    return mrb_funcall_argv(mrb, md, mrb_intern_lit(mrb, "[]"), 1, &idx);
}

/* String#start_with?(*prefixes): a Regexp must match at offset 0 (sets $~). */
static mrb_value string_start_with(mrb_state *mrb, mrb_value self)
{
    const mrb_value *argv;
    mrb_int argc;
    mrb_get_args(mrb, "*", &argv, &argc);
    for (mrb_int i = 0; i < argc; i++) {
        if (re_is_regexp(argv[i])) {
            mrb_value snap = re_snapshot(mrb, self);
            mrb_value md = re_match_here(mrb, argv[i], re_for_subject(mrb, argv[i], snap), snap, 0);
            re_set_last_match(mrb, md); /* nil on a failed attempt, as CRuby */
            if (!mrb_nil_p(md))
                return mrb_true_value();
        } else if (mrb_test(call_orig(mrb, self, "start_with?", 1, &argv[i], mrb_nil_value()))) {
            return mrb_true_value();
        }
    }
    return mrb_false_value();
}

/* String#partition / #rpartition with a Regexp: first / last match; set $~. */
static mrb_value split3(mrb_state *mrb, mrb_value self, const char *name, mrb_bool backward)
{
    mrb_value pat;
    mrb_get_args(mrb, "o", &pat);
    if (!re_is_regexp(pat))
        return call_orig(mrb, self, name, 1, &pat, mrb_nil_value());
    mrb_int len = RSTRING_LEN(self);
    mrb_value md = re_search_str(mrb, pat, self, backward ? len : 0, backward);
    re_set_last_match(mrb, md);
    mrb_value parts[3];
    if (mrb_nil_p(md)) {
        parts[0] = backward ? mrb_str_new_lit(mrb, "") : mrb_str_dup(mrb, self);
        parts[1] = mrb_str_new_lit(mrb, "");
        parts[2] = backward ? mrb_str_dup(mrb, self) : mrb_str_new_lit(mrb, "");
    } else {
        mrb_value s = md_subject(mrb, md);
        mrb_int b = md_begin(mrb, md, 0), e = md_end(mrb, md, 0);
        parts[0] = substr(mrb, s, 0, b);
        parts[1] = md_group(mrb, md, 0);
        parts[2] = substr(mrb, s, e, len - e);
    }
    return mrb_ary_new_from_values(mrb, 3, parts);
}

static mrb_value string_partition(mrb_state *mrb, mrb_value self)
{
    return split3(mrb, self, "partition", FALSE);
}

static mrb_value string_rpartition(mrb_state *mrb, mrb_value self)
{
    return split3(mrb, self, "rpartition", TRUE);
}

/* String#=~(obj): obj =~ self, as CRuby; a String argument is a TypeError. */
static mrb_value string_match_op(mrb_state *mrb, mrb_value self)
{
    mrb_value obj;
    mrb_get_args(mrb, "o", &obj);
    if (mrb_string_p(obj))
        mrb_raise(mrb, E_TYPE_ERROR, "type mismatch: String given");
    return mrb_funcall_argv(mrb, obj, mrb_intern_lit(mrb, "=~"), 1, &self);
}

/* String#match(pattern, pos = 0) { |m| }: a String pattern is compiled, not quoted. */
static mrb_value string_match(mrb_state *mrb, mrb_value self)
{
    mrb_value pat, blk = mrb_nil_value();
    mrb_int pos = 0;
    mrb_get_args(mrb, "o|i&", &pat, &pos, &blk);
    mrb_value args[2] = {self, mrb_fixnum_value(pos)};
    return mrb_funcall_with_block(mrb, re_from_pattern(mrb, pat, FALSE), mrb_intern_lit(mrb, "match"), 2, args, blk);
}

static mrb_value string_match_p(mrb_state *mrb, mrb_value self)
{
    mrb_value pat;
    mrb_int pos = 0;
    mrb_get_args(mrb, "o|i", &pat, &pos);
    mrb_value args[2] = {self, mrb_fixnum_value(pos)};
    return mrb_funcall_argv(mrb, re_from_pattern(mrb, pat, FALSE), mrb_intern_lit(mrb, "match?"), 2, args);
}

void pm_mrb_regexp_string_init(mrb_state *mrb)
{
    static const char *const kept[] = {"sub", "sub!", "gsub", "gsub!", "split", "index", "rindex",
                                       "[]", "start_with?", "partition", "rpartition"};
    struct RClass *s = mrb->string_class;
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        char alias[64];
        snprintf(alias, sizeof alias, "__pm_orig_%s", kept[i]);
        mrb_define_alias(mrb, s, alias, kept[i]);
    }
    mrb_define_method(mrb, s, "sub", string_sub, MRB_ARGS_ANY());
    mrb_define_method(mrb, s, "sub!", string_sub_bang, MRB_ARGS_ANY());
    mrb_define_method(mrb, s, "gsub", string_gsub, MRB_ARGS_ANY());
    mrb_define_method(mrb, s, "gsub!", string_gsub_bang, MRB_ARGS_ANY());
    mrb_define_method(mrb, s, "scan", string_scan, MRB_ARGS_REQ(1) | MRB_ARGS_BLOCK());
    mrb_define_method(mrb, s, "split", string_split, MRB_ARGS_ANY());
    mrb_define_method(mrb, s, "index", string_index, MRB_ARGS_ANY());
    mrb_define_method(mrb, s, "rindex", string_rindex, MRB_ARGS_ANY());
    mrb_define_method(mrb, s, "[]", string_aref, MRB_ARGS_ANY());
    mrb_define_method(mrb, s, "slice", string_aref, MRB_ARGS_ANY());
    mrb_define_method(mrb, s, "start_with?", string_start_with, MRB_ARGS_ANY());
    mrb_define_method(mrb, s, "partition", string_partition, MRB_ARGS_REQ(1));
    mrb_define_method(mrb, s, "rpartition", string_rpartition, MRB_ARGS_REQ(1));
    mrb_define_method(mrb, s, "=~", string_match_op, MRB_ARGS_REQ(1));
    mrb_define_method(mrb, s, "match", string_match, MRB_ARGS_ARG(1, 1) | MRB_ARGS_BLOCK());
    mrb_define_method(mrb, s, "match?", string_match_p, MRB_ARGS_ARG(1, 1));
}
