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
#include <string.h>

#include "re_internal.h"

static pthread_once_t onig_once = PTHREAD_ONCE_INIT;

static void onig_init_once(void)
{
    OnigEncoding encs[] = {ONIG_ENCODING_UTF8, ONIG_ENCODING_ASCII};
    onig_initialize(encs, 2);
}

void re_onig_init(void)
{
    pthread_once(&onig_once, onig_init_once);
}

/*
 * Ruby's m is Oniguruma's MULTILINE (dot matches newline); ^ and $ are line
 * anchors in Ruby syntax already. CRuby's \w, \d, \s and \b are ASCII-only
 * while \p{..} and [[:alpha:]] are Unicode: measured with ruby 3.1.
 */
static OnigOptionType onig_options(int options)
{
    OnigOptionType o = ONIG_OPTION_WORD_IS_ASCII | ONIG_OPTION_DIGIT_IS_ASCII | ONIG_OPTION_SPACE_IS_ASCII;
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

/*
 * Compile src with Ruby syntax. Returns 0 and sets *out (caller frees with
 * onig_free), or -1 with err filled as CRuby words it.
 */
int re_compile(const char *src, size_t len, int options, OnigEncoding enc, regex_t **out, char *err, size_t errlen)
{
    OnigErrorInfo einfo;
    const OnigUChar *p = (const OnigUChar *)src;

    re_onig_init();
    int r = onig_new(out, p, p + len, onig_options(options), enc, ONIG_SYNTAX_RUBY, &einfo);
    if (r == ONIG_NORMAL)
        return 0;
    *out = NULL;
    if (err && errlen) {
        OnigUChar msg[ONIG_MAX_ERROR_MESSAGE_LEN];
        char desc[512];
        onig_error_code_to_str(msg, r, &einfo);
        re_describe(src, len, options, desc, sizeof desc);
        snprintf(err, errlen, "%s: %s", (const char *)msg, desc);
    }
    return -1;
}
