/*++
 * json - JSON string escaper (RFC 8259), output always valid UTF-8
 *--*/
#include "json.h"

#include <string.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned min;
    unsigned cp;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xe0) == 0xc0)
        len = 2, min = 0x80, cp = s[0] & 0x1f;
    else if ((s[0] & 0xf0) == 0xe0)
        len = 3, min = 0x800, cp = s[0] & 0x0f;
    else if ((s[0] & 0xf8) == 0xf0)
        len = 4, min = 0x10000, cp = s[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

void json_strn(cbuf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    cbuf_reserve(b, n + 2);
    cbuf_putc(b, '"');
    for (size_t i = 0; i < n;) {
        unsigned char ch = p[i];
        if (ch == '"' || ch == '\\') {
            cbuf_putc(b, '\\');
            cbuf_putc(b, (char)ch);
        } else if (ch == '\n') {
            cbuf_puts(b, "\\n");
        } else if (ch == '\r') {
            cbuf_puts(b, "\\r");
        } else if (ch == '\t') {
            cbuf_puts(b, "\\t");
        } else if (ch < 0x20 || ch == 0x7f) {
            char u[7] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15], 0};
            cbuf_puts(b, u);
        } else if (ch < 0x80) {
            cbuf_putc(b, (char)ch);
        } else {
            size_t l = utf8_len(p + i, n - i);
            if (l == 0) {
                cbuf_puts(b, "\\ufffd");
                i++;
                continue;
            }
            cbuf_put(b, p + i, l);
            i += l;
            continue;
        }
        i++;
    }
    cbuf_putc(b, '"');
}

void json_str(cbuf_t *b, const char *s)
{
    if (!s)
        cbuf_puts(b, "null");
    else
        json_strn(b, s, strlen(s));
}
