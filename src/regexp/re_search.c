/*
 * re_search.c - one search of a subject, bounded, with the result as a
 * MatchData (or nil), or only as the match position (re_match_pos: match?,
 * and =~/=== when no code reads $~), which allocates nothing.
 *
 * Subjects are byte strings (mruby has no encodings here). A subject that is
 * valid UTF-8 is searched with the UTF-8 program; any other is read as
 * ISO-8859-1, one character per byte, with the pattern compiled for that
 * (docs/regexp.md; legacy 8-bit mail headers are mostly Latin-1). Every search runs
 * with per-call backtracking limits (re_internal.h), so no global Oniguruma
 * setting is touched. DIAGNOSTICS: RegexpError "match limit exceeded: /src/"
 * when a limit is hit. No subject bytes make a search raise anything else.
 */
#include <stdio.h>

#include <mruby.h>
#include <mruby/array.h>
#include <mruby/class.h>
#include <mruby/string.h>
#include <mruby/variable.h>

#include "re_internal.h"

mrb_bool re_is_regexp(mrb_value v)
{
    return mrb_data_p(v) && DATA_TYPE(v) == &re_type;
}

/* A frozen string sharing str's bytes: what MatchData#string returns, and
 * what loops search so that a block changing the subject cannot move it. */
mrb_value re_snapshot(mrb_state *mrb, mrb_value str)
{
    if (mrb_frozen_p(mrb_basic_ptr(str)))
        return str;
    return mrb_obj_freeze(mrb, mrb_str_dup(mrb, str));
}

/* Subjects shorter than this are checked for UTF-8 on every search (cheaper than the cache). */
#define RE_UTF8_CACHE_MIN 64

/* RE_UTF8_* of n bytes at p: strict UTF-8 (PCRE2 may search them), UTF-8
 * for Oniguruma only (e.g. surrogates), or neither (searched as Latin-1). */
static unsigned char utf8_class_of(const unsigned char *p, mrb_int n)
{
    if (re_utf8_valid(p, (size_t)n))
        return RE_UTF8_STRICT;
    return onigenc_is_valid_mbc_string(ONIG_ENCODING_UTF8, p, p + n) ? RE_UTF8_ONIG : RE_UTF8_INVALID;
}

/*
 * How str's bytes read as UTF-8 (RE_UTF8_*), so that a search knows its
 * engine and program without scanning the subject again. The answer for
 * the last long subject is remembered per VM, keyed by the address and
 * length of its bytes: the bytes are held by a frozen string (a snapshot
 * sharing str's buffer, kept in the Regexp class's hidden __utf8 ivar), and
 * mruby never writes a buffer that another string still shares -- a String
 * that changes gets a buffer of its own first. So a string that is shared
 * (or that frozen string itself) and points at those bytes holds the bytes
 * that were checked. Anything else is checked again.
 */
static unsigned char subject_class(mrb_state *mrb, re_vm_t *vm, mrb_value str)
{
    struct RString *s = RSTRING(str);
    const unsigned char *p = (const unsigned char *)RSTRING_PTR(str);
    mrb_int n = RSTRING_LEN(str);
    if (n < RE_UTF8_CACHE_MIN || RSTR_EMBED_P(s) || RSTR_NOFREE_P(s))
        return utf8_class_of(p, n);
    if ((const char *)p == vm->utf8_ptr && n == vm->utf8_len && (RSTR_SHARED_P(s) || RSTR_FSHARED_P(s) || (void *)s == vm->utf8_owner))
        return vm->utf8_class;
    mrb_value snap = re_snapshot(mrb, str); /* shares str's buffer from here on */
    struct RString *o = RSTRING(snap);
    if (RSTR_EMBED_P(o) || RSTR_NOFREE_P(o))
        return utf8_class_of((const unsigned char *)RSTRING_PTR(snap), n);
    mrb_iv_set(mrb, mrb_obj_value(re_class(mrb)), mrb_intern_lit(mrb, "__utf8"), snap);
    vm->utf8_owner = o;
    vm->utf8_ptr = RSTRING_PTR(snap);
    vm->utf8_len = n;
    vm->utf8_class = utf8_class_of((const unsigned char *)vm->utf8_ptr, n);
    return vm->utf8_class;
}

static mrb_bool subject_utf8(mrb_state *mrb, re_vm_t *vm, mrb_value str)
{
    return subject_class(mrb, vm, str) == RE_UTF8_STRICT;
}

/* Is str strictly valid UTF-8 (remembered as for PCRE2 searches)? */
mrb_bool re_subject_utf8(mrb_state *mrb, mrb_value str)
{
    return subject_utf8(mrb, re_vm(mrb), str);
}

mrb_bool re_valid_utf8(mrb_value str)
{
    const OnigUChar *p = (const OnigUChar *)RSTRING_PTR(str);
    return onigenc_is_valid_mbc_string(ONIG_ENCODING_UTF8, p, p + RSTRING_LEN(str));
}

/*
 * The program for a subject: UTF-8 for valid UTF-8, else ISO-8859-1
 * (compiled on first use). A pattern ISO-8859-1 cannot express (\p{Han},
 * \u3042: characters or properties beyond Latin-1) keeps the UTF-8 program,
 * which run() then applies to search_text(): never an error for any bytes.
 */
regex_t *re_for_subject(mrb_state *mrb, mrb_value re, mrb_value snap)
{
    re_t *r = re_get(mrb, re);
    if (r->bin_failed || subject_class(mrb, r->vm, snap) != RE_UTF8_INVALID)
        return r->utf8;
    if (!r->bin) {
        mrb_value src = re_source(mrb, re);
        size_t cost = re_program_cost(RSTRING_PTR(src), (size_t)RSTRING_LEN(src), r->options), charged = 0;
        if (re_charge(mrb, cost, &charged) != 0)
            mrb_raise_nomemory(mrb);
        if (re_compile(RSTRING_PTR(src), (size_t)RSTRING_LEN(src), r->options, ONIG_ENCODING_ISO_8859_1, &r->bin, NULL, 0) < 0) {
            re_uncharge(mrb, charged);
            r->bin_failed = TRUE;
            return r->utf8;
        }
        r->charged += charged;
    }
    return r->bin;
}

/* Bytes of the valid character at p (before e), or 0 when p starts no valid character. */
static int valid_char_len(OnigEncoding enc, const OnigUChar *p, const OnigUChar *e)
{
    int n = ONIGENC_MBC_ENC_LEN(enc, p);
    if (n < 1 || n > e - p || !onigenc_is_valid_mbc_string(enc, p, p + n))
        return 0;
    return n;
}

/* Byte that stands for an invalid UTF-8 byte in search_text (SUB). */
#define RE_SUBSTITUTE 0x1A

/*
 * The bytes the UTF-8 program may search for snap: snap itself when it is
 * valid UTF-8, else a copy of the same length with every byte outside a
 * valid sequence replaced by RE_SUBSTITUTE, so offsets stay those of snap.
 * The last answer is kept in the hidden global __re_text ([snap, text]),
 * which also keeps snap alive, so a loop over one subject checks it once.
 */
static mrb_value search_text(mrb_state *mrb, mrb_value snap)
{
    mrb_sym cache_sym = mrb_intern_lit(mrb, "__re_text");
    mrb_value cache = mrb_gv_get(mrb, cache_sym);
    if (mrb_array_p(cache) && RARRAY_LEN(cache) == 2 && mrb_obj_eq(mrb, RARRAY_PTR(cache)[0], snap))
        return RARRAY_PTR(cache)[1];
    mrb_value text = snap;
    if (!re_valid_utf8(snap)) {
        text = mrb_str_new(mrb, RSTRING_PTR(snap), RSTRING_LEN(snap));
        OnigUChar *p = (OnigUChar *)RSTRING_PTR(text), *e = p + RSTRING_LEN(text);
        while (p < e) {
            int n = valid_char_len(ONIG_ENCODING_UTF8, p, e);
            if (n == 0)
                *p = RE_SUBSTITUTE;
            p += n ? n : 1;
        }
    }
    mrb_value pair[2] = {snap, text};
    mrb_gv_set(mrb, cache_sym, mrb_ary_new_from_values(mrb, 2, pair));
    re_mark_dirty(mrb); /* the next handler run drops it */
    return text;
}

/* RegexpError for a PCRE2 (pcre != 0) or Oniguruma error code of a search. */
static void raise_search_error(mrb_state *mrb, mrb_value re, int code, int pcre)
{
    char desc[512], msg[700];
    mrb_value src = re_source(mrb, re);
    re_describe(RSTRING_PTR(src), (size_t)RSTRING_LEN(src), re_get(mrb, re)->options, desc, sizeof desc);
    if (pcre) {
        if (code == PCRE2_ERROR_MATCHLIMIT || code == PCRE2_ERROR_DEPTHLIMIT || code == PCRE2_ERROR_HEAPLIMIT ||
            code == PCRE2_ERROR_JIT_STACKLIMIT) {
            snprintf(msg, sizeof msg, "match limit exceeded: %s", desc);
        } else {
            PCRE2_UCHAR text[120];
            pcre2_get_error_message(code, text, sizeof text);
            snprintf(msg, sizeof msg, "%s: %s", (const char *)text, desc);
        }
    } else if (code == ONIGERR_RETRY_LIMIT_IN_MATCH_OVER || code == ONIGERR_RETRY_LIMIT_IN_SEARCH_OVER ||
        code == ONIGERR_MATCH_STACK_LIMIT_OVER) {
        snprintf(msg, sizeof msg, "match limit exceeded: %s", desc);
    } else {
        OnigUChar text[ONIG_MAX_ERROR_MESSAGE_LEN];
        onig_error_code_to_str(text, code);
        snprintf(msg, sizeof msg, "%s: %s", (const char *)text, desc);
    }
    mrb_raise(mrb, mrb_class_get(mrb, "RegexpError"), msg);
}

/* The first character head at or after byte at of a valid UTF-8 subject. */
static size_t char_head(const char *s, size_t len, size_t at)
{
    while (at < len && ((unsigned char)s[at] & 0xC0) == 0x80)
        at++;
    return at;
}

/* run() on PCRE2: snap is known to be strictly valid UTF-8. */
static mrb_value run_pcre(mrb_state *mrb, mrb_value re, re_t *r, mrb_value snap, mrb_int start, int anchored)
{
    mrb_value md = md_alloc(mrb, re, r->utf8, snap);
    const char *s = RSTRING_PTR(snap);
    size_t len = (size_t)RSTRING_LEN(snap);
    int rc = re_pcre_match(r->vm, r->pcre, s, len, char_head(s, len, (size_t)start), anchored, md_get(mrb, md)->region);
    if (rc == 1)
        return md;
    if (rc < 0)
        raise_search_error(mrb, re, rc, 1);
    return mrb_nil_value();
}

enum { FORWARD, BACKWARD, ANCHORED };

/* The VM's Oniguruma match parameters (the limits), made once per VM. */
void re_vm_search_init(mrb_state *mrb, re_vm_t *vm)
{
    vm->onig_mp = onig_new_match_param();
    if (!vm->onig_mp)
        mrb_raise_nomemory(mrb);
    vm->keep_last_match = TRUE; /* until pm_regexp_keep_last_match says no code reads it */
}

void re_vm_search_free(re_vm_t *vm)
{
    if (vm->onig_mp)
        onig_free_match_param(vm->onig_mp);
}

/*
 * One Oniguruma search (or anchored match) of text's len bytes from start,
 * with the VM's limits; region may be NULL (only the position is wanted).
 * Oniguruma's result: a position or length >= 0, ONIG_MISMATCH or an error.
 */
static int onig_run(re_vm_t *vm, regex_t *reg, mrb_value text, mrb_int start, int how, OnigRegion *region)
{
    const OnigUChar *s = (const OnigUChar *)RSTRING_PTR(text), *e = s + RSTRING_LEN(text), *at = s + start;
    OnigEncoding enc = onig_get_encoding(reg);
    /* Never start inside a UTF-8 sequence: CRuby moves to a character head too. */
    at = how == BACKWARD ? onigenc_get_left_adjust_char_head(enc, s, at) : onigenc_get_right_adjust_char_head(enc, s, at);
    OnigMatchParam *mp = vm->onig_mp;
    onig_initialize_match_param(mp);
    onig_set_retry_limit_in_match_of_match_param(mp, RE_RETRY_LIMIT_IN_MATCH);
    onig_set_retry_limit_in_search_of_match_param(mp, RE_RETRY_LIMIT_IN_SEARCH);
    onig_set_match_stack_limit_size_of_match_param(mp, RE_MATCH_STACK_LIMIT);
    if (how == ANCHORED)
        return onig_match_with_param(reg, s, e, at, region, ONIG_OPTION_NONE, mp);
    return onig_search_with_param(reg, s, e, at, how == BACKWARD ? s : e, region, ONIG_OPTION_NONE, mp);
}

/* The bytes the UTF-8 program searches for snap (see search_text). */
static mrb_value text_for(mrb_state *mrb, re_t *r, regex_t *reg, mrb_value snap)
{
    return r->bin_failed && onig_get_encoding(reg) == ONIG_ENCODING_UTF8 ? search_text(mrb, snap) : snap;
}

/*
 * Search snap from byte offset start (forward to the end, or backward to 0),
 * or match exactly at start (anchored). Returns a MatchData or nil.
 */
static mrb_value run(mrb_state *mrb, mrb_value re, regex_t *reg, mrb_value snap, mrb_int start, int how)
{
    mrb_int len = RSTRING_LEN(snap);
    if (start < 0 || start > len)
        return mrb_nil_value();
    re_t *rt = re_get(mrb, re);
    if (rt->pcre && reg == rt->utf8 && how != BACKWARD && subject_utf8(mrb, rt->vm, snap))
        return run_pcre(mrb, re, rt, snap, start, how == ANCHORED);
    /* The MatchData owns the region from here on, so a raise leaks nothing. */
    mrb_value md = md_alloc(mrb, re, reg, snap);
    int r = onig_run(rt->vm, reg, text_for(mrb, rt, reg, snap), start, how, md_get(mrb, md)->region);
    if (r >= 0)
        return md;
    if (r == ONIG_MISMATCH)
        return mrb_nil_value();
    raise_search_error(mrb, re, r, 0);
    return mrb_nil_value();
}

/*
 * Where re first matches str from start (negative counts from the end), as
 * a byte offset, or -1: Regexp#match? and, when no code reads $~, =~ and
 * ===. Builds no MatchData and no snapshot (no Ruby code runs during the
 * search, so str cannot change); PCRE2 reuses the VM's match data and
 * Oniguruma needs no region. Once str's UTF-8 class is remembered and an
 * 8-bit subject's Latin-1 program exists, this allocates nothing, except a
 * pattern Latin-1 cannot express on an invalid subject (search_text).
 */
mrb_int re_match_pos(mrb_state *mrb, mrb_value re, mrb_value str, mrb_int start)
{
    mrb_int len = RSTRING_LEN(str);
    if (start < 0)
        start += len;
    if (start < 0 || start > len)
        return -1;
    re_t *r = re_get(mrb, re);
    if (r->pcre && subject_utf8(mrb, r->vm, str)) {
        const char *s = RSTRING_PTR(str);
        int rc = re_pcre_match(r->vm, r->pcre, s, (size_t)len, char_head(s, (size_t)len, (size_t)start), 0, NULL);
        if (rc < 0)
            raise_search_error(mrb, re, rc, 1);
        return rc == 1 ? (mrb_int)pcre2_get_ovector_pointer(r->vm->md)[0] : -1;
    }
    regex_t *reg = re_for_subject(mrb, re, str);
    mrb_value text = str;
    if (r->bin_failed && onig_get_encoding(reg) == ONIG_ENCODING_UTF8)
        text = search_text(mrb, re_snapshot(mrb, str)); /* cached per snapshot: it must not change */
    int rc = onig_run(r->vm, reg, text, start, FORWARD, NULL);
    if (rc >= 0)
        return rc;
    if (rc != ONIG_MISMATCH)
        raise_search_error(mrb, re, rc, 0);
    return -1;
}

mrb_bool re_match_p(mrb_state *mrb, mrb_value re, mrb_value str, mrb_int start)
{
    return re_match_pos(mrb, re, str, start) >= 0;
}

mrb_value re_search(mrb_state *mrb, mrb_value re, regex_t *reg, mrb_value snap, mrb_int start, mrb_bool backward)
{
    return run(mrb, re, reg, snap, start, backward ? BACKWARD : FORWARD);
}

mrb_value re_match_here(mrb_state *mrb, mrb_value re, regex_t *reg, mrb_value snap, mrb_int at)
{
    return run(mrb, re, reg, snap, at, ANCHORED);
}

/* Bytes of the character at pos (1 at or past the end): how far an empty match steps. */
mrb_int re_char_len(regex_t *reg, mrb_value snap, mrb_int pos)
{
    mrb_int len = RSTRING_LEN(snap);
    if (pos >= len)
        return 1;
    const OnigUChar *s = (const OnigUChar *)RSTRING_PTR(snap);
    int n = valid_char_len(onig_get_encoding(reg), s + pos, s + len);
    return n ? n : 1; /* an invalid byte is one character */
}

/* One search of str from start (negative counts from the end), as Regexp#match does. */
mrb_value re_search_str(mrb_state *mrb, mrb_value re, mrb_value str, mrb_int start, mrb_bool backward)
{
    mrb_int len = RSTRING_LEN(str);
    if (start < 0)
        start += len;
    if (start < 0 || start > len)
        return mrb_nil_value();
    mrb_value snap = re_snapshot(mrb, str);
    return re_search(mrb, re, re_for_subject(mrb, re, snap), snap, start, backward);
}
