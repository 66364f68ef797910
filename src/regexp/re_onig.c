/*
 * re_onig.c - Oniguruma with Ruby's dialect, without any Ruby objects.
 *
 * Owns the one process-wide step (onig_initialize, run once through
 * pthread_once) and turns Ruby option bits into Oniguruma options. Any
 * thread may call these; nothing here keeps state. Errors come back as
 * CRuby's RegexpError text: "message: /source/opts".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "re_internal.h"

static pthread_once_t onig_once = PTHREAD_ONCE_INIT;

static void onig_init_once(void)
{
    OnigEncoding encs[] = {ONIG_ENCODING_UTF8, ONIG_ENCODING_ISO_8859_1};
    onig_initialize(encs, 2);
}

void re_onig_init(void)
{
    pthread_once(&onig_once, onig_init_once);
}

/*
 * Ruby's m is Oniguruma's MULTILINE (dot matches newline); ^ and $ are line
 * anchors in Ruby syntax already. CRuby's \d and \s are ASCII-only while
 * \b, \p{..} and [[:alpha:]] are Unicode (measured with ruby 3.1); \w is
 * ASCII-only too, but Oniguruma ties \b to \w, so translate() spells \w out.
 */
static OnigOptionType onig_options(int options)
{
    OnigOptionType o = ONIG_OPTION_DIGIT_IS_ASCII | ONIG_OPTION_SPACE_IS_ASCII;
    if (options & RE_IGNORECASE)
        o |= ONIG_OPTION_IGNORECASE;
    if (options & RE_EXTENDED)
        o |= ONIG_OPTION_EXTEND;
    if (options & RE_MULTILINE)
        o |= ONIG_OPTION_MULTILINE;
    return o;
}

/*
 * Write CRuby's Regexp#inspect form of a pattern into out (always
 * NUL-terminated, truncated to outlen): unescaped '/' gets a backslash,
 * control characters other than white space become \xHH.
 */
void re_describe(const char *src, size_t len, int options, char *out, size_t outlen)
{
    size_t o = 0;
#define PUT(c)                                                                                                                 \
    do {                                                                                                                       \
        if (o + 1 < outlen)                                                                                                    \
            out[o++] = (c);                                                                                                    \
    } while (0)
    if (outlen == 0)
        return;
    PUT('/');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '\\' && i + 1 < len) {
            PUT('\\');
            PUT(src[++i]);
        } else if (c == '/') {
            PUT('\\');
            PUT('/');
        } else if (c < 0x20 && !(c >= '\t' && c <= '\r')) {
            char hex[5];
            snprintf(hex, sizeof hex, "\\x%02X", c);
            for (int k = 0; k < 4; k++)
                PUT(hex[k]);
        } else {
            PUT((char)c);
        }
    }
    PUT('/');
    if (options & RE_MULTILINE)
        PUT('m');
    if (options & RE_IGNORECASE)
        PUT('i');
    if (options & RE_EXTENDED)
        PUT('x');
    if (options & RE_NOENCODING)
        PUT('n');
    out[o] = '\0';
#undef PUT
}

void re_text_put(re_text_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 64) + n;
        char *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

#define PUTS(b, lit) re_text_put((b), (lit), sizeof(lit) - 1)

/*
 * [:digit:] and [:space:] are Unicode in CRuby (Nd, White_Space), but the
 * DIGIT_IS_ASCII and SPACE_IS_ASCII options that keep \d and \s ASCII
 * narrow them too: spell them as properties. NULL for any other bracket.
 */
static const char *posix_unicode(const char *p, size_t n)
{
    static const char *const map[][2] = {{"[:digit:]", "\\p{Nd}"},
                                         {"[:^digit:]", "\\P{Nd}"},
                                         {"[:space:]", "\\p{White_Space}"},
                                         {"[:^space:]", "\\P{White_Space}"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strlen(map[i][0]) == n && memcmp(map[i][0], p, n) == 0)
            return map[i][1];
    return NULL;
}

/*
 * Rewrite the parts of Ruby's dialect that Oniguruma reads differently, as
 * CRuby's own rb_reg_preprocess does before handing a pattern to Onigmo:
 *   \u{H H..}  (Ruby only) -> \x{H}\x{H}..
 *   \w \W      -> ASCII word classes, so \b can stay Unicode as in CRuby
 * Tracks escapes, [classes] (nested, with [:posix:]) and x-mode comments so
 * only real escapes are touched. Anything unusual is copied unchanged for
 * Oniguruma to judge. Returns a malloc'd buffer (caller frees) of *outlen bytes.
 */
static char *translate(const char *src, size_t len, int options, OnigEncoding enc, size_t *outlen)
{
    /* \W in a class runs to the encoding's last character: past it, ISO-8859-1 refuses the class. */
    const char *non_word = enc == ONIG_ENCODING_UTF8 ? "\\x00-\\x2F\\x3A-\\x40\\x5B-\\x5E\\x60\\x7B-\\x{10FFFF}"
                                                     : "\\x00-\\x2F\\x3A-\\x40\\x5B-\\x5E\\x60\\x7B-\\xFF";
    re_text_t b = {0};
    int depth = 0; /* inside how many [ ] */
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '\\' && i + 1 < len) {
            char n = src[++i];
            if (n == 'w') {
                if (depth)
                    PUTS(&b, "a-zA-Z0-9_");
                else
                    PUTS(&b, "[a-zA-Z0-9_]");
            } else if (n == 'W') {
                if (depth)
                    re_text_put(&b, non_word, strlen(non_word));
                else
                    PUTS(&b, "[^a-zA-Z0-9_]");
            } else if (n == 'u' && i + 1 < len && src[i + 1] == '{') {
                size_t j = i + 2;
                re_text_t cps = {0};
                int ok = 0;
                while (j < len) {
                    while (j < len && src[j] == ' ')
                        j++;
                    if (j < len && src[j] == '}') {
                        ok = cps.len > 0;
                        break;
                    }
                    size_t k = j;
                    while (k < len && k - j < 8 && strchr("0123456789abcdefABCDEF", src[k]) && src[k])
                        k++;
                    if (k == j || (k < len && src[k] != ' ' && src[k] != '}'))
                        break;
                    PUTS(&cps, "\\x{");
                    re_text_put(&cps, src + j, k - j);
                    PUTS(&cps, "}");
                    j = k;
                }
                if (ok) {
                    re_text_put(&b, cps.p, cps.len);
                    i = j;
                } else {
                    re_text_put(&b, src + i - 1, 2);
                }
                free(cps.p);
            } else {
                re_text_put(&b, src + i - 1, 2);
            }
        } else if (c == '[') {
            if (depth && i + 1 < len && src[i + 1] == ':') { /* [:alpha:] inside a class */
                const char *end = memchr(src + i, ']', len - i);
                size_t n = end ? (size_t)(end - (src + i)) + 1 : 1;
                const char *unicode = posix_unicode(src + i, n);
                if (unicode)
                    re_text_put(&b, unicode, strlen(unicode));
                else
                    re_text_put(&b, src + i, n);
                i += n - 1;
                continue;
            }
            depth++;
            re_text_put(&b, &c, 1);
            if (i + 1 < len && src[i + 1] == '^')
                re_text_put(&b, src + ++i, 1);
            if (i + 1 < len && src[i + 1] == ']') /* a leading ] is literal */
                re_text_put(&b, src + ++i, 1);
        } else if (c == ']' && depth) {
            depth--;
            re_text_put(&b, &c, 1);
        } else if (c == '#' && !depth && (options & RE_EXTENDED)) {
            const char *nl = memchr(src + i, '\n', len - i);
            size_t n = nl ? (size_t)(nl - (src + i)) : len - i;
            re_text_put(&b, src + i, n);
            i += n - 1;
        } else {
            re_text_put(&b, &c, 1);
        }
    }
    re_text_put(&b, "", 0); /* a malloc'd buffer even for an empty pattern */
    *outlen = b.len;
    return b.p;
}

/*
 * Compile src with Ruby syntax. Returns 0 and sets *out (caller frees with
 * onig_free), or -1 with err filled as CRuby words it.
 */
int re_compile(const char *src, size_t len, int options, OnigEncoding enc, regex_t **out, char *err, size_t errlen)
{
    OnigErrorInfo einfo; /* points into t: format the message before freeing it */
    size_t tlen;

    re_onig_init();
    char *t = translate(src, len, options, enc, &tlen);
    const OnigUChar *tp = (const OnigUChar *)t;
    int r = onig_new(out, tp, tp + tlen, onig_options(options), enc, ONIG_SYNTAX_RUBY, &einfo);
    if (r != ONIG_NORMAL) {
        *out = NULL;
        if (err && errlen) {
            OnigUChar msg[ONIG_MAX_ERROR_MESSAGE_LEN];
            char desc[512];
            onig_error_code_to_str(msg, r, &einfo);
            re_describe(src, len, options, desc, sizeof desc);
            snprintf(err, errlen, "%s: %s", (const char *)msg, desc);
        }
    }
    free(t);
    return r == ONIG_NORMAL ? 0 : -1;
}
