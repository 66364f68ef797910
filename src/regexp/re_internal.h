/*
 * re_internal.h - what the files of src/regexp share. Not for callers
 * outside src/regexp: they use mrb_regexp.h.
 */
#ifndef PM_RE_INTERNAL_H
#define PM_RE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <oniguruma.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <mruby.h>
#include <mruby/data.h>

/* libmruby 3.1 exports this (raises the preallocated NoMemoryError) but
 * declares it only inside khash.h's macros. */
mrb_noreturn void mrb_raise_nomemory(mrb_state *mrb);

/* Growable text of the pattern translators (re_onig.c, re_pcre.c): NUL-
 * terminated once anything is put; p stays NULL until then. Aborts on OOM
 * like the rest of src/regexp. */
typedef struct {
    char *p;
    size_t len, cap;
} re_text_t;
void re_text_put(re_text_t *b, const char *s, size_t n);

/* Ruby's option bits, the values of Regexp::IGNORECASE etc. in CRuby. */
#define RE_IGNORECASE 1
#define RE_EXTENDED 2
#define RE_MULTILINE 4
#define RE_FIXEDENCODING 16
#define RE_NOENCODING 32

/*
 * Backtracking bounds for one search (see docs/regexp.md). Past either,
 * the search stops and RegexpError "match limit exceeded" is raised.
 * retry/match: per start position; retry/search: the whole scan of a subject;
 * stack: backtrack entries (about 16-32 bytes each).
 */
#define RE_RETRY_LIMIT_IN_MATCH 1000000UL
#define RE_RETRY_LIMIT_IN_SEARCH 10000000UL
#define RE_MATCH_STACK_LIMIT 1000000U

/* PCRE2 (re_pcre.c): a pattern with more groups stays on Oniguruma; the
 * JIT stack and heap bound a search's memory (past them: match limit). */
#define RE_PCRE_MAX_GROUPS 63
#define RE_PCRE_JIT_STACK_MAX (1024 * 1024)
#define RE_PCRE_HEAP_LIMIT_KIB 20000

/* Per-VM matching state, reused by every search of the VM (no allocation
 * per search). Owned by a hidden object of the Regexp class (re_regexp.c). */
typedef struct {
    pcre2_match_context *mctx;  /* limits and jit_stack */
    pcre2_jit_stack *jit_stack;
    pcre2_match_data *md;       /* RE_PCRE_MAX_GROUPS + 1 pairs */
    /* The last subject checked for UTF-8 (re_search.c): its bytes, kept
     * alive and immutable by the frozen string in the hidden ivar. */
    const void *utf8_owner; /* that frozen string */
    const char *utf8_ptr;
    mrb_int utf8_len;
    unsigned char utf8_class; /* RE_UTF8_* of those bytes */
    mrb_bool keep_last_match; /* some code of the VM may read $~ (pm_regexp_keep_last_match) */
    OnigMatchParam *onig_mp;  /* Oniguruma's limits, for every search of the VM */
    void *hs_scratch; /* Hyperscan scratch of the VM's RuleSets (re_ruleset.c), grown by each new set */
} re_vm_t;

/* How a subject's bytes read as UTF-8 (re_search.c). */
enum { RE_UTF8_STRICT = 1, RE_UTF8_ONIG, RE_UTF8_INVALID };

/* The C side of a Regexp object. */
typedef struct {
    pcre2_code *pcre;   /* owned; NULL when the pattern stays on Oniguruma */
    const char *pcre_refused; /* static text: why pcre is NULL */
    re_vm_t *vm;        /* the VM's matching state (outlives every Regexp of the VM) */
    regex_t *utf8;  /* owned; compiled with the object, never replaced */
    regex_t *bin;   /* owned; ISO-8859-1 program, NULL until a subject that is not valid UTF-8 needs it */
    int options;    /* RE_* bits */
    mrb_bool bin_failed; /* ISO-8859-1 cannot express the pattern: 8-bit subjects use utf8 (re_search.c) */
    size_t charged; /* bytes charged to the VM for utf8 and bin (re_memory.c) */
} re_t;

/* The C side of a MatchData object; the subject and Regexp are ivars. */
typedef struct {
    OnigRegion *region; /* owned; byte offsets into the subject */
    regex_t *reg;       /* borrowed from the __regexp ivar: marking it keeps the program alive */
    size_t charged;     /* bytes charged to the VM for region */
} md_t;

extern const mrb_data_type re_type;
extern const mrb_data_type md_type;

/* re_onig.c: Oniguruma without Ruby objects (also used by re_check.c). */
void re_onig_init(void);
int re_compile(const char *src, size_t len, int options, OnigEncoding enc, regex_t **out, char *err, size_t errlen);
void re_describe(const char *src, size_t len, int options, char *out, size_t outlen);

/* re_pcre.c: PCRE2 without Ruby objects. */
pcre2_code *re_pcre_compile(const char *src, size_t len, int options, regex_t *onig, const char **why);
size_t re_pcre_size(pcre2_code *code);
void re_pcre_vm_init(re_vm_t *vm);
void re_pcre_vm_free(re_vm_t *vm);
int re_pcre_match(re_vm_t *vm, pcre2_code *code, const char *s, size_t len, size_t start, int anchored, OnigRegion *region);
int re_utf8_valid(const unsigned char *p, size_t n);
char *re_pcre_translate(const char *src, size_t len, int options, const char **why);

/* re_memory.c: Oniguruma's memory charged to the VM (pm_regexp_set_charge). */
size_t re_program_cost(const char *src, size_t len, int options);
size_t re_region_cost(regex_t *reg);
int re_charge(mrb_state *mrb, size_t bytes, size_t *charged);
void re_uncharge(mrb_state *mrb, size_t charged);

/* re_regexp.c */
struct RClass *re_class(mrb_state *mrb);
re_t *re_get(mrb_state *mrb, mrb_value re);
mrb_value re_source(mrb_state *mrb, mrb_value re);
mrb_value re_from_pattern(mrb_state *mrb, mrb_value pat, mrb_bool quote);
void pm_mrb_regexp_class_init(mrb_state *mrb);

/* re_search.c: searching with the limits; results as MatchData. */
mrb_value re_snapshot(mrb_state *mrb, mrb_value str);
mrb_bool re_is_regexp(mrb_value v);
mrb_bool re_valid_utf8(mrb_value str);
mrb_bool re_subject_utf8(mrb_state *mrb, mrb_value str);
regex_t *re_for_subject(mrb_state *mrb, mrb_value re, mrb_value snap);
mrb_value re_search(mrb_state *mrb, mrb_value re, regex_t *reg, mrb_value snap, mrb_int start, mrb_bool backward);
mrb_value re_match_here(mrb_state *mrb, mrb_value re, regex_t *reg, mrb_value snap, mrb_int at);
mrb_int re_char_len(regex_t *reg, mrb_value snap, mrb_int pos);
mrb_value re_search_str(mrb_state *mrb, mrb_value re, mrb_value str, mrb_int start, mrb_bool backward);
mrb_bool re_match_p(mrb_state *mrb, mrb_value re, mrb_value str, mrb_int start);
mrb_int re_match_pos(mrb_state *mrb, mrb_value re, mrb_value str, mrb_int start);
void re_vm_search_init(mrb_state *mrb, re_vm_t *vm);
void re_vm_search_free(re_vm_t *vm);
re_vm_t *re_vm(mrb_state *mrb);

/* re_matchdata.c */
md_t *md_get(mrb_state *mrb, mrb_value md);
mrb_value md_alloc(mrb_state *mrb, mrb_value re, regex_t *reg, mrb_value snap);
mrb_value md_subject(mrb_state *mrb, mrb_value md);
mrb_value md_group(mrb_state *mrb, mrb_value md, int n);
mrb_int md_begin(mrb_state *mrb, mrb_value md, int n);
mrb_int md_end(mrb_state *mrb, mrb_value md, int n);
int md_name_to_group(mrb_state *mrb, mrb_value md, const char *name, size_t len, mrb_bool raise);
void re_set_last_match(mrb_state *mrb, mrb_value md);
void re_mark_dirty(mrb_state *mrb);
void pm_mrb_matchdata_init(mrb_state *mrb);

/* re_reads.c: decoding mruby 3.1 bytecode (also for re_check.c). */
struct mrb_irep;
enum { RE_F_Z, RE_F_B, RE_F_BB, RE_F_BBB, RE_F_BS, RE_F_BSS, RE_F_S, RE_F_W };
int re_op_format(int op);
int re_decode(const struct mrb_irep *irep, uint32_t *pc, uint32_t *a, uint32_t *b, uint32_t *c);

/* re_ruleset.c: Pmilter::RuleSet on Hyperscan. */
void pm_mrb_ruleset_init(mrb_state *mrb);
void re_ruleset_vm_free(re_vm_t *vm);

/* re_string.c */
void pm_mrb_regexp_string_init(mrb_state *mrb);

#endif
