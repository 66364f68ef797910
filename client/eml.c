/*++
 * eml - parse a message file into headers and a CRLF body
 *
 * Owns the eml_t it fills (freed by eml_free). Reads the whole file into memory.
 * Not thread-aware; call from main only.
 *--*/
#include "eml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cbuf.h"

/* Length of the line at p (without its LF), and where the next one starts. */
static size_t line_at(const char *p, const char *end, const char **next)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    *next = nl ? nl + 1 : end;
    return (size_t)((nl ? nl : end) - p);
}

/* Length of a valid header field name before a colon, 0 if the line is not a header. */
static size_t header_name_len(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] != ':') {
        unsigned char ch = (unsigned char)p[i];
        if (ch <= 32 || ch >= 127)
            return 0;
        i++;
    }
    return i < n ? i : 0;
}

void eml_parse(eml_t *m, const char *data, size_t len)
{
    const char *p = data, *end = data + len, *next;
    size_t cap = 0;
    memset(m, 0, sizeof *m);
    if (len >= 5 && memcmp(p, "From ", 5) == 0)
        line_at(p, end, &p);
    while (p < end) {
        size_t n = line_at(p, end, &next);
        size_t t = n && p[n - 1] == '\r' ? n - 1 : n; /* without CR */
        if (t == 0) {                                   /* blank line ends the header */
            p = next;
            break;
        }
        if ((p[0] == ' ' || p[0] == '\t') && m->nhdr) {
            eml_header_t *h = &m->hdr[m->nhdr - 1];
            size_t vl = strlen(h->value);
            h->value = xrealloc(h->value, vl + 1 + t + 1);
            h->value[vl] = '\n';
            memcpy(h->value + vl + 1, p, t);
            h->value[vl + 1 + t] = 0;
            p = next;
            continue;
        }
        size_t nl = header_name_len(p, t);
        if (!nl)
            break; /* not a header: the body starts here */
        if (m->nhdr == cap) {
            cap = cap ? cap * 2 : 16;
            m->hdr = xrealloc(m->hdr, cap * sizeof *m->hdr);
        }
        m->hdr[m->nhdr].name = xstrndup(p, nl);
        m->hdr[m->nhdr].value = xstrndup(p + nl + 1, t - nl - 1);
        m->nhdr++;
        p = next;
    }
    cbuf_t b = {0};
    cbuf_reserve(&b, (size_t)(end - p) + (size_t)(end - p) / 32 + 16);
    for (; p < end; p = next) {
        size_t n = line_at(p, end, &next);
        size_t t = n && p[n - 1] == '\r' ? n - 1 : n;
        cbuf_put(&b, p, t);
        if (next > p + n) /* the line had an LF */
            cbuf_put(&b, "\r\n", 2);
        else if (t < n)
            cbuf_putc(&b, '\r');
    }
    m->body = b.p ? b.p : xstrdup("");
    m->body_len = b.len;
}

int eml_load(eml_t *m, const char *path, char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    cbuf_t raw = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        cbuf_put(&raw, chunk, n);
    int bad = ferror(f);
    if (f != stdin)
        fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s: read error", path);
        cbuf_free(&raw);
        return -1;
    }
    eml_parse(m, raw.p ? raw.p : "", raw.len);
    cbuf_free(&raw);
    return 0;
}

const char *eml_header(const eml_t *m, const char *name)
{
    for (size_t i = 0; i < m->nhdr; i++)
        if (strcasecmp(m->hdr[i].name, name) == 0)
            return m->hdr[i].value;
    return NULL;
}

/* One address from one list element [s, e): the <...> part, else the text without comments and space. */
static char *one_address(const char *s, const char *e)
{
    cbuf_t b = {0};
    const char *lt = memchr(s, '<', (size_t)(e - s));
    if (lt) {
        const char *gt = memchr(lt, '>', (size_t)(e - lt));
        cbuf_putc(&b, '<');
        cbuf_put(&b, lt + 1, (size_t)((gt ? gt : e) - lt - 1));
        cbuf_putc(&b, '>');
        return (char *)cbuf_str(&b);
    }
    int depth = 0;
    cbuf_putc(&b, '<');
    for (const char *p = s; p < e; p++) {
        if (*p == '(')
            depth++;
        else if (*p == ')' && depth)
            depth--;
        else if (!depth && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            cbuf_putc(&b, *p);
    }
    cbuf_putc(&b, '>');
    return (char *)cbuf_str(&b);
}

size_t eml_addresses(const char *value, char ***out)
{
    size_t n = 0;
    *out = NULL;
    const char *s = value;
    int quote = 0, angle = 0, paren = 0;
    for (const char *p = value;; p++) {
        if (*p == 0 || (*p == ',' && !quote && !angle && !paren)) {
            char *a = one_address(s, p);
            if (strcmp(a, "<>") != 0) {
                *out = xrealloc(*out, (n + 1) * sizeof **out);
                (*out)[n++] = a;
            } else {
                free(a);
            }
            if (*p == 0)
                break;
            s = p + 1;
        } else if (*p == '"' && !paren) {
            quote = !quote;
        } else if (*p == '\\' && quote && p[1]) {
            p++;
        } else if (!quote && *p == '<') {
            angle = 1;
        } else if (!quote && *p == '>') {
            angle = 0;
        } else if (!quote && *p == '(') {
            paren++;
        } else if (!quote && *p == ')' && paren) {
            paren--;
        }
    }
    return n;
}

void eml_free(eml_t *m)
{
    for (size_t i = 0; i < m->nhdr; i++) {
        free(m->hdr[i].name);
        free(m->hdr[i].value);
    }
    free(m->hdr);
    free(m->body);
    memset(m, 0, sizeof *m);
}
