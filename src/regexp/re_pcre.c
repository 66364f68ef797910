/*
 * re_pcre.c - PCRE2 with its JIT as the engine of every Regexp whose Ruby
 * meaning it can express exactly, without any Ruby objects.
 *
 * At compile time, translate() rewrites Ruby syntax into PCRE2 syntax or
 * names the reason it cannot (docs/regexp.md lists them); such a pattern
 * stays on Oniguruma for good, decided once per pattern, never per match.
 * The translation accepts a whitelist of constructs and refuses everything
 * else, so an unknown construct costs speed, never a different answer. The
 * PCRE2 program is checked against the Oniguruma one (same groups, same
 * names at the same numbers) before it is used. Subjects reach PCRE2 only
 * when strictly valid UTF-8 (re_utf8_valid), so matching runs with
 * PCRE2_NO_UTF_CHECK and 8-bit subjects keep Oniguruma's Latin-1 meaning.
 * Any thread: the compile context is built once and only read; a match
 * context (limits, JIT stack) and match data belong to one VM (re_vm_t).
 * DIAGNOSTICS: re_pcre_match returns PCRE2's negative codes; the caller
 * raises RegexpError "match limit exceeded" for the limit ones.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "re_internal.h"

static pthread_once_t pcre_once = PTHREAD_ONCE_INIT;
static pcre2_compile_context *compile_ctx;
static int pcre_disabled; /* PMILTER_REGEXP_ENGINE=oniguruma: the test mode that forces every pattern onto Oniguruma */

static void pcre_init_once(void)
{
    const char *e = getenv("PMILTER_REGEXP_ENGINE");
    pcre_disabled = e && strcmp(e, "oniguruma") == 0;
    compile_ctx = pcre2_compile_context_create(NULL);
    if (!compile_ctx)
        abort();
    /* Ruby: only \n ends a line; \R is any Unicode line break. */
    pcre2_set_newline(compile_ctx, PCRE2_NEWLINE_LF);
    pcre2_set_bsr(compile_ctx, PCRE2_BSR_UNICODE);
}

static void puts_(re_text_t *b, const char *s)
{
    re_text_put(b, s, strlen(s));
}

/*
 * A word character for CRuby's \b: Onigmo's Word (Alphabetic, marks,
 * decimal digits, connector punctuation), and below U+0100 its Latin-1
 * table, which also counts the superscripts and fractions. PCRE2's \b is
 * ASCII-only without PCRE2_UCP, and UCP's \w is another set: spelled out.
 */
#define WORD_CLASS "[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\x{B2}\\x{B3}\\x{B9}\\x{BC}-\\x{BE}]"
#define WORD_BOUNDARY "(?:(?<=" WORD_CLASS ")(?!" WORD_CLASS ")|(?<!" WORD_CLASS ")(?=" WORD_CLASS "))"
#define NOT_WORD_BOUNDARY "(?:(?<=" WORD_CLASS ")(?=" WORD_CLASS ")|(?<!" WORD_CLASS ")(?!" WORD_CLASS "))"

/* Ruby \p{} names PCRE2 reads the same way (general categories, scripts as Script not Script_Extensions). */
static const char *const categories[] = {"L",  "Lu", "Ll", "Lt", "Lm", "Lo", "M",  "Mn", "Mc", "Me", "N",  "Nd",
                                         "Nl", "No", "P",  "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "S",  "Sm",
                                         "Sc", "Sk", "So", "Z",  "Zs", "Zl", "Zp", "Cc", "Cf", "Co", NULL};
static const char *const scripts[] = {"Latin",  "Greek", "Cyrillic", "Han",    "Hiragana", "Katakana",   "Arabic",   "Hebrew",
                                      "Thai",   "Hangul", "Armenian", "Georgian", "Devanagari", "Common", "Inherited", NULL};

static int in_list(const char *const *list, const char *s, size_t n)
{
    for (; *list; list++)
        if (strlen(*list) == n && memcmp(*list, s, n) == 0)
            return 1;
    return 0;
}

/* CRuby's POSIX brackets on UTF-8, as PCRE2 class members ("" = not expressible). */
static const char *posix_class(const char *name, size_t n, int negated)
{
    static const struct {
        const char *name, *pos, *neg;
    } map[] = {
        {"alpha", "\\p{Alphabetic}", "\\P{Alphabetic}"},
        {"digit", "\\p{Nd}", "\\P{Nd}"},
        {"upper", "\\p{Uppercase}", "\\P{Uppercase}"},
        {"lower", "\\p{Lowercase}", "\\P{Lowercase}"},
        {"space", "\\p{White_Space}", "\\P{White_Space}"},
        {"xdigit", "0-9A-Fa-f", NULL},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strlen(map[i].name) == n && memcmp(map[i].name, name, n) == 0)
            return negated ? map[i].neg : map[i].pos;
    return NULL;
}

typedef struct {
    const char *s;
    size_t len, i;
    re_text_t out;
    int icase;           /* /i, or (?i) anywhere: the fold checks apply to the whole pattern */
    int backref;         /* a \1..\9 or \k<name> was seen */
    int quantified_group; /* a group is followed by a quantifier */
    int capture_repeated; /* a capturing group is, or is inside, a repeated group */
    unsigned char captures[64]; /* per open group: it or a group inside it captures */
    int depth;
    const char *refused; /* the reason this pattern stays on Oniguruma */
} tr_t;

static int refuse(tr_t *t, const char *why)
{
    if (!t->refused)
        t->refused = why;
    return -1;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* \xHH (i at 'x'): ASCII only; Ruby reads \x80..\xFF as raw bytes. */
static int tr_hex(tr_t *t)
{
    size_t j = t->i + 1, k = j;
    while (k < t->len && k - j < 2 && is_hex(t->s[k]))
        k++;
    if (k == j)
        return refuse(t, "\\x without digits");
    unsigned long v = strtoul((char[]){t->s[j], k - j > 1 ? t->s[j + 1] : '\0', '\0'}, NULL, 16);
    if (v >= 0x80)
        return refuse(t, "\\x80-\\xFF (a byte in Ruby)");
    re_text_put(&t->out, "\\x", 2);
    re_text_put(&t->out, t->s + j, k - j);
    t->i = k - 1;
    return 0;
}

/* \uHHHH or \u{H H..} (i at 'u') -> \x{H}.. */
static int tr_unicode(tr_t *t)
{
    size_t j = t->i + 1;
    if (j < t->len && t->s[j] == '{') {
        size_t k = j + 1, n = 0;
        for (;;) {
            while (k < t->len && t->s[k] == ' ')
                k++;
            if (k < t->len && t->s[k] == '}')
                break;
            size_t h = k;
            while (k < t->len && is_hex(t->s[k]) && k - h < 6)
                k++;
            if (k == h)
                return refuse(t, "malformed \\u{}");
            unsigned long v = strtoul(t->s + h, NULL, 16);
            if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
                return refuse(t, "\\u outside Unicode scalar values");
            re_text_put(&t->out, "\\x{", 3);
            re_text_put(&t->out, t->s + h, k - h);
            re_text_put(&t->out, "}", 1);
            n++;
        }
        if (n == 0)
            return refuse(t, "malformed \\u{}");
        t->i = k;
        return 0;
    }
    if (j + 4 > t->len || !is_hex(t->s[j]) || !is_hex(t->s[j + 1]) || !is_hex(t->s[j + 2]) || !is_hex(t->s[j + 3]))
        return refuse(t, "malformed \\u");
    unsigned long v = strtoul((char[]){t->s[j], t->s[j + 1], t->s[j + 2], t->s[j + 3], '\0'}, NULL, 16);
    if (v >= 0xD800 && v <= 0xDFFF)
        return refuse(t, "\\u outside Unicode scalar values");
    re_text_put(&t->out, "\\x{", 3);
    re_text_put(&t->out, t->s + j, 4);
    re_text_put(&t->out, "}", 1);
    t->i = j + 3;
    return 0;
}

/* \p{Name} \p{^Name} \P{Name} (i at 'p'/'P'): general categories and a few scripts. */
static int tr_property(tr_t *t)
{
    int neg = t->s[t->i] == 'P';
    size_t j = t->i + 1;
    if (t->icase)
        return refuse(t, "\\p{} with /i");
    if (j >= t->len || t->s[j] != '{')
        return refuse(t, "\\p without braces");
    const char *end = memchr(t->s + j, '}', t->len - j);
    if (!end)
        return refuse(t, "malformed \\p{}");
    const char *name = t->s + j + 1;
    if (*name == '^') {
        neg = !neg;
        name++;
    }
    size_t n = (size_t)(end - name);
    const char *kind = in_list(categories, name, n) ? "" : in_list(scripts, name, n) ? "sc:" : NULL;
    if (!kind)
        return refuse(t, "\\p{} name outside the translated list");
    puts_(&t->out, neg ? "\\P{" : "\\p{");
    puts_(&t->out, kind);
    re_text_put(&t->out, name, n);
    re_text_put(&t->out, "}", 1);
    t->i = (size_t)(end - t->s);
    return 0;
}

static int is_ascii_word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Does the source at j certainly start with an ASCII word character (a literal one, not optional)? */
static int word_char_at(const tr_t *t, size_t j)
{
    if (j >= t->len || !is_ascii_word(t->s[j]))
        return 0;
    char q = j + 1 < t->len ? t->s[j + 1] : '\0';
    return q != '?' && q != '*' && q != '{';
}

/* Does the group opening at j ("(" or "(?:") start with an ASCII word character in every branch? */
static int group_starts_with_word(const tr_t *t, size_t j)
{
    size_t k = j + 1;
    if (k + 1 < t->len && t->s[k] == '?' && t->s[k + 1] == ':')
        k += 2;
    else if (k < t->len && t->s[k] == '?')
        return 0;
    for (int depth = 0, branch_start = 1; k < t->len; k++) {
        char c = t->s[k];
        if (branch_start && (depth > 0 || !word_char_at(t, k)))
            return 0;
        branch_start = 0;
        if (c == '\\' || c == '[')
            return 0; /* escapes and classes: not judged here */
        if (c == '(')
            depth++;
        else if (c == ')' && depth-- == 0)
            return k + 1 >= t->len || (t->s[k + 1] != '?' && t->s[k + 1] != '*' && t->s[k + 1] != '{');
        else if (c == '|' && depth == 0)
            branch_start = 1;
    }
    return 0;
}

/*
 * \b or \B (i at the letter). Spelled with WORD_CLASS lookarounds; when a
 * literal ASCII word character certainly follows (or precedes), only the
 * other side needs a look, and a lone lookbehind leaves PCRE2 its search
 * for the first character: \bviagra costs what viagra does.
 */
static void tr_boundary(tr_t *t, int boundary)
{
    size_t next = t->i + 1;
    int word_next = word_char_at(t, next) || (next < t->len && t->s[next] == '(' && group_starts_with_word(t, next));
    int word_prev = t->i >= 3 && is_ascii_word(t->s[t->i - 2]) && t->s[t->i - 3] != '\\' && t->s[t->i - 3] != '{' &&
                    t->s[t->i - 3] != ',';
    if (t->i == 2 && is_ascii_word(t->s[0]))
        word_prev = 1;
    if (word_next)
        puts_(&t->out, boundary ? "(?<!" WORD_CLASS ")" : "(?<=" WORD_CLASS ")");
    else if (word_prev)
        puts_(&t->out, boundary ? "(?!" WORD_CLASS ")" : "(?=" WORD_CLASS ")");
    else
        puts_(&t->out, boundary ? WORD_BOUNDARY : NOT_WORD_BOUNDARY);
}

/* One escape (i at the backslash); in_class: inside [...]. */
static int tr_escape(tr_t *t, int in_class)
{
    if (t->i + 1 >= t->len)
        return refuse(t, "trailing backslash");
    char c = t->s[++t->i];
    switch (c) {
    case 'd': case 'D': case 's': case 'S': case 'w': case 'W': case 't': case 'n': case 'r': case 'f': case 'a': case 'e':
        re_text_put(&t->out, t->s + t->i - 1, 2);
        return 0;
    case 'v': puts_(&t->out, "\\x0B"); return 0;
    case 'h': puts_(&t->out, in_class ? "0-9a-fA-F" : "[0-9a-fA-F]"); return 0;
    case 'x': return t->icase ? refuse(t, "escaped character with /i") : tr_hex(t);
    case 'u': return t->icase ? refuse(t, "escaped character with /i") : tr_unicode(t);
    case 'p': case 'P': return tr_property(t);
    default: break;
    }
    if (in_class) {
        if (c == 'b') { /* backspace in a class, in both dialects */
            puts_(&t->out, "\\b");
            return 0;
        }
    } else {
        switch (c) {
        case 'H': puts_(&t->out, "[^0-9a-fA-F]"); return 0;
        case 'b': case 'B': tr_boundary(t, c == 'b'); return 0;
        case 'A': case 'z': case 'Z': case 'G': case 'R':
            re_text_put(&t->out, t->s + t->i - 1, 2);
            return 0;
        case 'k': {
            if (t->icase)
                return refuse(t, "backreference with /i");
            char close = t->i + 1 < t->len && t->s[t->i + 1] == '<' ? '>' : '\'';
            size_t j = t->i + 2;
            const char *end = j <= t->len ? memchr(t->s + j, close, t->len - j) : NULL;
            if (!end || end == t->s + j || (t->s[j] >= '0' && t->s[j] <= '9') || t->s[j] == '-' || t->s[j] == '+')
                return refuse(t, "numbered or malformed \\k");
            t->backref = 1;
            puts_(&t->out, "\\k<");
            re_text_put(&t->out, t->s + j, (size_t)(end - (t->s + j)));
            puts_(&t->out, ">");
            t->i = (size_t)(end - t->s);
            return 0;
        }
        default: break;
        }
        if (c >= '1' && c <= '9') {
            if (t->icase)
                return refuse(t, "backreference with /i");
            if (t->i + 1 < t->len && t->s[t->i + 1] >= '0' && t->s[t->i + 1] <= '9')
                return refuse(t, "multi-digit backreference or octal");
            t->backref = 1;
            re_text_put(&t->out, t->s + t->i - 1, 2);
            return 0;
        }
    }
    if ((unsigned char)c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
        re_text_put(&t->out, t->s + t->i - 1, 2); /* escaped punctuation or space: literal in both */
        return 0;
    }
    return refuse(t, "escape outside the translated list");
}

/* A character class (i at '['), flat: nested classes and && stay on Oniguruma. */
static int tr_class(tr_t *t)
{
    re_text_put(&t->out, "[", 1);
    t->i++;
    if (t->i < t->len && t->s[t->i] == '^')
        re_text_put(&t->out, t->s + t->i++, 1);
    if (t->i < t->len && t->s[t->i] == ']')
        return refuse(t, "leading ] in a class");
    for (; t->i < t->len; t->i++) {
        char c = t->s[t->i];
        if (c == ']') {
            re_text_put(&t->out, "]", 1);
            return 0;
        }
        if (c == '\\') {
            if (t->i + 1 < t->len && t->s[t->i + 1] == 'H')
                return refuse(t, "\\H in a class");
            if (tr_escape(t, 1) < 0)
                return -1;
        } else if (c == '[') {
            if (t->i + 1 < t->len && t->s[t->i + 1] == ':') {
                const char *end = memchr(t->s + t->i, ']', t->len - t->i);
                if (t->icase)
                    return refuse(t, "POSIX bracket with /i");
                if (!end || end[-1] != ':')
                    return refuse(t, "malformed POSIX bracket");
                const char *name = t->s + t->i + 2;
                int neg = *name == '^';
                name += neg;
                const char *m = posix_class(name, (size_t)(end - 1 - name), neg);
                if (!m)
                    return refuse(t, "POSIX bracket outside the translated list");
                puts_(&t->out, m);
                t->i = (size_t)(end - t->s);
            } else {
                return refuse(t, "nested character class");
            }
        } else if (c == '&' && t->i + 1 < t->len && t->s[t->i + 1] == '&') {
            return refuse(t, "class intersection &&");
        } else {
            re_text_put(&t->out, &c, 1);
        }
    }
    return refuse(t, "unterminated class");
}

/* (?... (i at '('): the group kinds PCRE2 reads as Ruby does; option letters m->s, no x. */
static int tr_group(tr_t *t)
{
    const char *s = t->s + t->i;
    size_t left = t->len - t->i;
    if (left < 3 || s[1] != '?') {
        re_text_put(&t->out, "(", 1);
        return 0;
    }
    char k = s[2];
    if (k == ':' || k == '=' || k == '!' || k == '>' || k == '\'' ||
        (k == '<' && left > 3 && (s[3] == '=' || s[3] == '!' || s[3] != '\0'))) {
        re_text_put(&t->out, s, 3);
        t->i += 2;
        return 0;
    }
    if (k == '#') {
        const char *end = memchr(s, ')', left);
        if (!end)
            return refuse(t, "unterminated comment");
        t->i += (size_t)(end - s);
        return 0;
    }
    if (k == '~')
        return refuse(t, "absent operator (?~)");
    if (k == '(')
        return refuse(t, "conditional group");
    re_text_put(&t->out, "(?", 2);
    size_t j = 2;
    int on = 1;
    for (; j < left; j++) {
        char c = s[j];
        if (c == 'i') {
            if (on)
                t->icase = 1;
            re_text_put(&t->out, "i", 1);
        } else if (c == 'm') {
            re_text_put(&t->out, "s", 1);
        } else if (c == '-') {
            on = 0;
            re_text_put(&t->out, "-", 1);
        } else if (c == ':' || c == ')') {
            re_text_put(&t->out, &c, 1);
            t->i += j;
            return 0;
        } else {
            return refuse(t, c == 'x' ? "extended mode (?x)" : "group kind outside the translated list");
        }
    }
    return refuse(t, "unterminated group");
}

/* {n}, {n,}, {,m}, {n,m} at i: 1 and the end index if an interval, else 0 (a literal brace in both). */
static int interval_end(const tr_t *t, size_t *end)
{
    size_t j = t->i + 1, digits = 0, commas = 0;
    for (; j < t->len && t->s[j] != '}'; j++) {
        if (t->s[j] >= '0' && t->s[j] <= '9')
            digits++;
        else if (t->s[j] == ',' && !commas)
            commas++;
        else
            return 0;
    }
    if (j >= t->len || digits == 0)
        return 0;
    *end = j;
    return 1;
}

static int tr_interval(tr_t *t)
{
    size_t end;
    if (!interval_end(t, &end)) {
        re_text_put(&t->out, "\\{", 2);
        return 0;
    }
    if (end + 1 < t->len && (t->s[end + 1] == '?' || t->s[end + 1] == '+'))
        return refuse(t, "{n,m}? or {n,m}+ (Ruby reads them unlike PCRE2)");
    re_text_put(&t->out, "{", 1);
    if (t->s[t->i + 1] == ',')
        re_text_put(&t->out, "0", 1); /* Ruby's {,m} is {0,m}; PCRE2 10.42 reads it literally */
    re_text_put(&t->out, t->s + t->i + 1, end - t->i);
    t->i = end;
    return 0;
}

/* Adjacent letters that a multi-character case fold joins (ß=ss, ﬁ=fi, ﬆ=st, ...): Onigmo folds them, PCRE2 cannot. */
static int has_multichar_fold(const char *s, size_t len)
{
    static const char *const pairs[] = {"ss", "st", "ff", "fi", "fl", NULL};
    for (size_t i = 0; i + 1 < len; i++) {
        char a = (char)(s[i] | 0x20), b = (char)(s[i + 1] | 0x20);
        for (const char *const *p = pairs; *p; p++)
            if (a == (*p)[0] && b == (*p)[1])
                return 1;
    }
    return 0;
}

/* The characters whose full case fold is ASCII letters: Onigmo's /ss/i matches "ß", /fi/i "ﬁ". */
static const struct {
    const char *fold, *ch;
} ligatures[] = {{"ss", "\u00DF"}, {"ss", "\u1E9E"}, {"st", "\uFB05"}, {"st", "\uFB06"}, {"ff", "\uFB00"},
                 {"fi", "\uFB01"}, {"fl", "\uFB02"}, {"ffi", "\uFB03"}, {"ffl", "\uFB04"}};

/* The ligatures whose fold is a prefix of r[0..n) (case-insensitive), as a bit set. */
static unsigned ligatures_at(const char *r, size_t n)
{
    unsigned set = 0;
    for (size_t k = 0; k < sizeof ligatures / sizeof ligatures[0]; k++) {
        size_t m = strlen(ligatures[k].fold);
        if (m <= n && strncasecmp(r, ligatures[k].fold, m) == 0)
            set |= 1u << k;
    }
    return set;
}

/*
 * A run of literal letters under /i, written so that every ligature that
 * folds to a letter sequence of the run may stand for it, as in one
 * Oniguruma string node: "sst" -> s(?:s(?:t)|ﬅ|ﬆ)|ß t|ẞ t (nested groups).
 */
static void fold_emit(tr_t *t, const char *r, size_t n)
{
    if (n == 0)
        return;
    unsigned set = ligatures_at(r, n);
    if (!set) {
        re_text_put(&t->out, r, 1);
        fold_emit(t, r + 1, n - 1);
        return;
    }
    puts_(&t->out, "(?:");
    re_text_put(&t->out, r, 1);
    fold_emit(t, r + 1, n - 1);
    for (size_t k = 0; k < sizeof ligatures / sizeof ligatures[0]; k++) {
        if (!(set & (1u << k)))
            continue;
        size_t m = strlen(ligatures[k].fold);
        puts_(&t->out, "|");
        puts_(&t->out, ligatures[k].ch);
        fold_emit(t, r + m, n - m);
    }
    puts_(&t->out, ")");
}

static int is_ascii_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * Literal letters from i (a letter) under a global /i: the run up to the
 * last letter that no quantifier follows, with its ligatures (fold_emit).
 */
static void tr_letters(tr_t *t)
{
    size_t j = t->i;
    while (j < t->len && is_ascii_letter(t->s[j]))
        j++;
    if (j < t->len && strchr("?*+{", t->s[j]) && j - t->i > 1)
        j--; /* the quantified letter is a node of its own in Oniguruma: no fold joins it */
    size_t n = j - t->i, pairs = 0;
    for (size_t k = 0; k < n; k++)
        pairs += ligatures_at(t->s + t->i + k, n - k) != 0;
    if (pairs > 6) {
        refuse(t, "/i with many ss/st/ff/fi/fl (multi-character folds)");
        return;
    }
    fold_emit(t, t->s + t->i, n);
    t->i = j - 1;
}

static int has_non_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 1;
    return 0;
}

/* Is there a class of one plain character, "[s]"? */
static int has_one_char_class(const char *s, size_t len)
{
    for (size_t i = 0; i + 2 < len; i++)
        if (s[i] == '[' && (i == 0 || s[i - 1] != '\\') && s[i + 1] != '\\' && s[i + 1] != '^' && s[i + 2] == ']')
            return 1;
    return 0;
}

/* The PCRE2 pattern for a Ruby one, or NULL with *why set. Caller frees. */
static char *translate(const char *src, size_t len, int options, const char **why)
{
    tr_t t = {.s = src, .len = len, .icase = !!(options & RE_IGNORECASE)};
    /* With /i or a leading (?i) throughout (no (?-i)), letter runs get their ligatures; else a letter pair stays on Oniguruma. */
    int fold_runs = ((options & RE_IGNORECASE) || (len >= 4 && memcmp(src, "(?i)", 4) == 0)) && !memmem(src, len, "(?-", 3);
    if (options & RE_EXTENDED)
        refuse(&t, "extended mode /x");
    else if (memchr(src, '\0', len))
        refuse(&t, "NUL in the pattern");
    for (t.i = 0; !t.refused && t.i < len; t.i++) {
        char c = src[t.i];
        switch (c) {
        case '\\': tr_escape(&t, 0); break;
        case '[': tr_class(&t); break;
        case '(': {
            size_t at = t.i;
            int capturing = at + 1 < len && (src[at + 1] != '?' || (at + 3 < len && (src[at + 2] == '\'' ||
                            (src[at + 2] == '<' && src[at + 3] != '=' && src[at + 3] != '!'))));
            tr_group(&t);
            if (t.i > at && src[t.i] == ')') /* (?#...) or an option setting such as (?i): no group opens */
                break;
            if (t.depth == 64)
                refuse(&t, "groups nested too deep");
            else
                t.captures[t.depth++] = (unsigned char)capturing;
            break;
        }
        case '{': tr_interval(&t); break;
        default:
            if (fold_runs && is_ascii_letter(c))
                tr_letters(&t);
            else
                re_text_put(&t.out, &c, 1);
            if (c == ')') {
                int repeated = t.i + 1 < len && strchr("?*+{", src[t.i + 1]);
                int captures = t.depth > 0 && t.captures[--t.depth];
                t.quantified_group |= repeated;
                if (captures && repeated)
                    t.capture_repeated = 1;
                if (captures && t.depth > 0)
                    t.captures[t.depth - 1] = 1;
            }
            break;
        }
    }
    /* (?i) may come after letters it governs in an enclosing group: judge the whole source once more. */
    if (!t.refused && t.icase && (has_non_ascii(src, len) || (!fold_runs && has_multichar_fold(src, len))))
        refuse(&t, has_non_ascii(src, len) ? "non-ASCII with /i (case folds differ)" : "/i with ss/st/ff/fi/fl (multi-character folds)");
    /* Oniguruma joins a leading one-letter class ("[s]s" matches "ß") and reads through (?#...) in a string node. */
    if (!t.refused && t.icase && (has_one_char_class(src, len) || memmem(src, len, "(?#", 3)))
        refuse(&t, "/i with a one-character class or a comment (folds join across them)");
    if (!t.refused && t.icase && (memmem(src, len, "\\p", 2) || memmem(src, len, "\\P", 2) || memmem(src, len, "[:", 2)))
        refuse(&t, "\\p{} or POSIX bracket with /i");
    /* Found by the fuzz: a backreference after a repeated group whose captures an empty iteration resets, the two
     * engines' empty-loop rules differ. */
    /* Found by the fuzz (seed 41): what a capture holds after an empty iteration differs too. */
    if (!t.refused && t.capture_repeated)
        refuse(&t, "capture in a repeated group (empty-iteration rules differ)");
    if (!t.refused && t.backref && t.quantified_group)
        refuse(&t, "backreference with a repeated group (empty-iteration rules differ)");
    if (!t.refused && t.icase && (memmem(src, len, "\\k", 2) || memmem(src, len, "\\x", 2) || memmem(src, len, "\\u", 2)))
        refuse(&t, "backreference or escaped character with /i");
    if (t.refused) {
        free(t.out.p);
        *why = t.refused;
        return NULL;
    }
    re_text_put(&t.out, "", 0);
    return t.out.p;
}

/* The PCRE2 syntax of a Ruby pattern (for Hyperscan, re_ruleset.c), or NULL with *why set. Caller frees. */
char *re_pcre_translate(const char *src, size_t len, int options, const char **why)
{
    return translate(src, len, options, why);
}

/* Does the PCRE2 program number its groups and names as Oniguruma does? */
static const char *same_groups(pcre2_code *code, regex_t *onig)
{
    uint32_t groups = 0, names = 0, entry = 0;
    PCRE2_SPTR table;
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &groups);
    if ((int)groups != onig_number_of_captures(onig))
        return "group count differs";
    if (groups > RE_PCRE_MAX_GROUPS)
        return "too many groups";
    pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &names);
    if ((int)names != onig_number_of_names(onig))
        return "group names differ";
    pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &entry);
    pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &table);
    for (uint32_t i = 0; i < names; i++) {
        const unsigned char *e = table + i * entry;
        int num = e[0] << 8 | e[1], *nums;
        const OnigUChar *name = (const OnigUChar *)e + 2;
        int n = onig_name_to_group_numbers(onig, name, name + strlen((const char *)name), &nums);
        if (n != 1 || nums[0] != num)
            return "group names differ";
    }
    return NULL;
}

/*
 * A JIT-compiled PCRE2 program with the meaning of the Ruby pattern src
 * (already compiled by Oniguruma as onig), or NULL with *why saying what
 * keeps it on Oniguruma. Free with pcre2_code_free.
 */
pcre2_code *re_pcre_compile(const char *src, size_t len, int options, regex_t *onig, const char **why)
{
    pthread_once(&pcre_once, pcre_init_once);
    if (pcre_disabled) {
        *why = "PMILTER_REGEXP_ENGINE=oniguruma";
        return NULL;
    }
    char *pat = translate(src, len, options, why);
    if (!pat)
        return NULL;
    uint32_t opts = PCRE2_UTF | PCRE2_MULTILINE | PCRE2_NO_UTF_CHECK;
    if (options & RE_IGNORECASE)
        opts |= PCRE2_CASELESS;
    if (options & RE_MULTILINE)
        opts |= PCRE2_DOTALL;
    if (onig_number_of_names(onig) > 0)
        opts |= PCRE2_NO_AUTO_CAPTURE; /* Ruby: with named groups, plain (...) does not capture */
    int err;
    PCRE2_SIZE off;
    /* The source passed Oniguruma's UTF-8 check, not necessarily PCRE2's stricter one. */
    pcre2_code *code = NULL;
    if (re_utf8_valid((const unsigned char *)pat, strlen(pat)))
        code = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, opts, &err, &off, compile_ctx);
    free(pat);
    if (!code) {
        *why = "PCRE2 refused the translation";
        return NULL;
    }
    const char *differs = same_groups(code, onig);
    if (differs) {
        pcre2_code_free(code);
        *why = differs;
        return NULL;
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* without JIT (no memory for it), pcre2_match interprets */
    return code;
}

/* Bytes of a PCRE2 program with its JIT code, for re_charge. */
size_t re_pcre_size(pcre2_code *code)
{
    size_t size = 0, jit = 0;
    pcre2_pattern_info(code, PCRE2_INFO_SIZE, &size);
    pcre2_pattern_info(code, PCRE2_INFO_JITSIZE, &jit);
    return size + jit;
}

/* The limits (re_internal.h) and JIT stack one VM's searches run with. */
void re_pcre_vm_init(re_vm_t *vm)
{
    vm->mctx = pcre2_match_context_create(NULL);
    vm->jit_stack = pcre2_jit_stack_create(32 * 1024, RE_PCRE_JIT_STACK_MAX, NULL);
    vm->md = pcre2_match_data_create(RE_PCRE_MAX_GROUPS + 1, NULL);
    if (!vm->mctx || !vm->jit_stack || !vm->md)
        abort();
    pcre2_set_match_limit(vm->mctx, RE_RETRY_LIMIT_IN_MATCH); /* PCRE2 counts per start position, like this one */
    pcre2_set_depth_limit(vm->mctx, RE_MATCH_STACK_LIMIT);
    pcre2_set_heap_limit(vm->mctx, RE_PCRE_HEAP_LIMIT_KIB);
    pcre2_jit_stack_assign(vm->mctx, NULL, vm->jit_stack);
}

void re_pcre_vm_free(re_vm_t *vm)
{
    pcre2_match_data_free(vm->md);
    pcre2_jit_stack_free(vm->jit_stack);
    pcre2_match_context_free(vm->mctx);
}

/*
 * Match code against s[0..len) from byte start (a character head), forward
 * or anchored at start. On a match with region non-NULL, fills it with the
 * groups' byte offsets (-1 for a group that did not take part). Returns 1
 * (match), 0 (none) or PCRE2's negative error code. Allocates nothing.
 */
int re_pcre_match(re_vm_t *vm, pcre2_code *code, const char *s, size_t len, size_t start, int anchored, OnigRegion *region)
{
    uint32_t opts = PCRE2_NO_UTF_CHECK | (anchored ? PCRE2_ANCHORED : 0);
    int rc = pcre2_match(code, (PCRE2_SPTR)s, len, start, opts, vm->md, vm->mctx);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0)
        return rc;
    if (region) {
        uint32_t groups = 0;
        pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &groups);
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(vm->md);
        if (onig_region_resize(region, (int)groups + 1) != ONIG_NORMAL)
            return PCRE2_ERROR_NOMEMORY;
        for (uint32_t g = 0; g <= groups; g++) {
            int set = g < (uint32_t)rc && ov[2 * g] != PCRE2_UNSET;
            region->beg[g] = set ? (int)ov[2 * g] : -1;
            region->end[g] = set ? (int)ov[2 * g + 1] : -1;
        }
    }
    return 1;
}

/*
 * Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF), the form PCRE2_NO_UTF_CHECK requires. ASCII runs go eight
 * bytes at a time.
 */
int re_utf8_valid(const unsigned char *p, size_t n)
{
    const unsigned char *e = p + n;
    while (p < e) {
        if (e - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (!(w & 0x8080808080808080ULL)) {
                p += 8;
                continue;
            }
        }
        unsigned c = *p;
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t need;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            need = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else
            return 0;
        if ((size_t)(e - p) <= need || p[1] < lo || p[1] > hi)
            return 0;
        for (size_t k = 2; k <= need; k++)
            if ((p[k] & 0xC0) != 0x80)
                return 0;
        p += need + 1;
    }
    return 1;
}
