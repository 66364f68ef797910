/* mime_urls: http and https URLs in a text or HTML string, for URL rules
 * (Pmilter::MIME.urls). HTML character references are decoded first (&amp;
 * in an href is "&"); a URL ends at white space, a quote, < or >, and loses
 * trailing sentence punctuation. Threads: any (no state). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime/mime.h"

static const struct {
    const char *name;
    char c;
} entities[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}, {"#39;", '\''}};

/* Decodes the ASCII character references; others are kept as they are. */
static char *decode_entities(const char *in, size_t len, size_t *out_len)
{
    char *out = malloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (in[i] == '&') {
            size_t k = 0;
            for (; k < sizeof entities / sizeof entities[0]; k++) {
                size_t n = strlen(entities[k].name);
                if (i + 1 + n <= len && strncasecmp(in + i + 1, entities[k].name, n) == 0) {
                    out[o++] = entities[k].c;
                    i += 1 + n;
                    break;
                }
            }
            if (k < sizeof entities / sizeof entities[0])
                continue;
            if (i + 2 < len && in[i + 1] == '#') { /* &#NN; or &#xHH; below 128 */
                char *end;
                int hex = in[i + 2] == 'x' || in[i + 2] == 'X';
                long v = strtol(in + i + 2 + hex, &end, hex ? 16 : 10);
                if (end < in + len && *end == ';' && end > in + i + 2 + hex && v > 32 && v < 127) {
                    out[o++] = (char)v;
                    i = (size_t)(end - in) + 1;
                    continue;
                }
            }
        }
        out[o++] = in[i++];
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

static int ends_url(unsigned char c)
{
    return c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == 127;
}

size_t pm_mime_urls(const char *text, size_t len, void (*found)(void *arg, const char *url, size_t n), void *arg)
{
    size_t n_text, count = 0;
    char *t = decode_entities(text, len, &n_text);
    for (size_t i = 0; i < n_text;) {
        size_t scheme = strncasecmp(t + i, "https://", 8) == 0 ? 8 : strncasecmp(t + i, "http://", 7) == 0 ? 7 : 0;
        if (scheme == 0 || (i > 0 && isalnum((unsigned char)t[i - 1]))) {
            i++;
            continue;
        }
        size_t end = i + scheme;
        while (end < n_text && !ends_url((unsigned char)t[end]))
            end++;
        while (end > i + scheme && strchr(".,;:!?)]}", t[end - 1]))
            end--;
        if (end > i + scheme) {
            found(arg, t + i, end - i);
            count++;
        }
        i = end > i ? end : i + 1;
    }
    free(t);
    return count;
}
