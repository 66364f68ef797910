/* mime_edit: rewriting a parsed message (remove a part, replace a part by a
 * new one, append a note to the text) on the GMime tree a pm_mime_t keeps,
 * and rendering the result. Only edited parts are built anew: GMime writes
 * every untouched part back with its original bytes (checked on the corpus
 * by test/mime/t_rewrite.sh). Records of removed or replaced subtrees stay
 * in place, marked removed, so part indexes never shift under a handler
 * (except after a note wraps a single-part message: then all are re-read).
 * Threads: the owner of the pm_mime_t.
 * Diagnostics: each edit returns -1 with a sentence for the handler. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime/mime_tree.h"

__attribute__((format(printf, 3, 4))) static int refuse(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Can part index still be edited? */
static int editable(const pm_mime_t *m, size_t index, char *err, size_t errlen)
{
    if (m->rendered)
        return refuse(err, errlen, "the message was already rebuilt for the MTA; edit it in the handler that reads it");
    if (m->message == NULL || index >= m->n_parts)
        return refuse(err, errlen, "no such part");
    if (m->truncated)
        return refuse(err, errlen, "the body was cut at max_body_size: a rebuilt message would lose its end");
    if (m->parts[index].removed)
        return refuse(err, errlen, "this part was removed or replaced");
    return 0;
}

/* Marks the parts below index (and index itself when with_self) removed. */
static void drop_subtree(pm_mime_t *m, size_t index, int with_self)
{
    int depth = m->parts[index].depth;
    for (size_t i = index + 1; i < m->n_parts && m->parts[i].depth > depth; i++) {
        m->parts[i].removed = 1;
        m->objects[i] = m->messages[i] = NULL;
    }
    if (with_self) {
        m->parts[index].removed = 1;
        m->objects[index] = m->messages[index] = NULL;
    }
}

/* Re-reads record index from its (new) object, keeping its place in the tree. */
static void refresh(pm_mime_t *m, size_t index)
{
    pm_mime_part_t *p = &m->parts[index];
    int depth = p->depth;
    long parent = p->parent;
    pm_mime_part_clear(p);
    memset(p, 0, sizeof *p);
    p->depth = depth;
    p->parent = parent;
    GMimeObject *o = m->objects[index];
    pm_mime_fill_part(p, o, m->messages[index] ? m->messages[index] : o);
}

int pm_mime_remove(pm_mime_t *m, size_t index, char *err, size_t errlen)
{
    if (editable(m, index, err, errlen))
        return -1;
    if (index == 0 || m->messages[index])
        return refuse(err, errlen, "%s cannot be removed (replace! it, or reject the message)",
                      index == 0 ? "the message's root part" : "the root of a forwarded message");
    GMimeObject *parent = m->objects[m->parts[index].parent];
    if (!GMIME_IS_MULTIPART(parent))
        return refuse(err, errlen, "the part's container is not a multipart");
    GMimeMultipart *mp = GMIME_MULTIPART(parent);
    if (g_mime_multipart_get_count(mp) == 1)
        return refuse(err, errlen, "removing the only part of a multipart would leave it empty (remove or replace! "
                                   "the multipart instead)");
    g_mime_multipart_remove(mp, m->objects[index]);
    drop_subtree(m, index, 1);
    m->edited = 1;
    return 0;
}

/* "type/subtype" in RFC 2045 token characters. */
static int valid_mime_type(const char *t)
{
    static const char tspecials[] = "()<>@,;:\\\"/[]?=";
    const char *slash = strchr(t, '/');
    size_t len = strlen(t);
    if (slash == NULL || slash == t || slash[1] == '\0' || len > 127 || strchr(slash + 1, '/'))
        return 0;
    for (const char *c = t; *c; c++)
        if (c != slash && (*c <= ' ' || *c >= 127 || strchr(tspecials, *c)))
            return 0;
    return 1;
}

/* Sets part's content to bytes; text/\* are declared UTF-8. The encoding is
 * the best 7-bit one (7bit, quoted-printable or base64) for the bytes. */
static void set_content(GMimePart *part, const char *bytes, size_t len)
{
    GMimeStream *s = g_mime_stream_mem_new_with_buffer(bytes, len);
    GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(s, GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(part, w);
    g_object_unref(w);
    g_object_unref(s);
    GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
    if (ct && g_ascii_strcasecmp(g_mime_content_type_get_media_type(ct), "text") == 0)
        g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", "utf-8");
    g_mime_part_set_content_encoding(part, g_mime_part_get_best_content_encoding(part, GMIME_ENCODING_CONSTRAINT_7BIT));
}

static GMimePart *new_leaf(const char *content_type, const char *bytes, size_t len)
{
    char *type = strdup(content_type);
    char *sub = strchr(type, '/');
    *sub++ = '\0';
    GMimePart *part = g_mime_part_new_with_type(type, sub);
    free(type);
    set_content(part, bytes, len);
    return part;
}

int pm_mime_replace(pm_mime_t *m, size_t index, const char *content_type, const char *text, size_t len, char *err,
                    size_t errlen)
{
    if (editable(m, index, err, errlen))
        return -1;
    if (!valid_mime_type(content_type))
        return refuse(err, errlen, "content_type must be \"type/subtype\", got \"%.80s\"", content_type);
    GMimeObject *old = m->objects[index];
    GMimeObject *parent = index == 0 ? NULL : m->objects[m->parts[index].parent];
    int at = parent && GMIME_IS_MULTIPART(parent) ? g_mime_multipart_index_of(GMIME_MULTIPART(parent), old) : -1;
    if (!m->messages[index] && at < 0)
        return refuse(err, errlen, "the part's container is not a multipart");
    GMimePart *fresh = new_leaf(content_type, text, len);
    if (m->messages[index])
        g_mime_message_set_mime_part(m->messages[index], GMIME_OBJECT(fresh));
    else {
        GMimeMultipart *mp = GMIME_MULTIPART(parent);
        GMimeObject *was = g_mime_multipart_replace(mp, at, GMIME_OBJECT(fresh));
        g_object_unref(was);
    }
    drop_subtree(m, index, 0);
    m->objects[index] = fresh;
    g_object_unref(fresh); /* the tree holds it */
    refresh(m, index);
    m->edited = 1;
    return 0;
}

/* html with the note inserted before its last </body> (or at its end), the
 * note's <, > and & escaped and its lines broken with <br>. malloc'd. */
static char *html_with_note(const char *html, size_t len, const char *note, size_t nlen, size_t *out_len)
{
    GString *s = g_string_new_len(html, (gssize)len);
    gsize at = s->len;
    for (gsize i = s->len; i-- > 0;)
        if (i + 7 <= s->len && g_ascii_strncasecmp(s->str + i, "</body>", 7) == 0) {
            at = i;
            break;
        }
    GString *n = g_string_new("<p>");
    for (size_t i = 0; i < nlen; i++)
        switch (note[i]) {
        case '<': g_string_append(n, "&lt;"); break;
        case '>': g_string_append(n, "&gt;"); break;
        case '&': g_string_append(n, "&amp;"); break;
        case '\r': break;
        case '\n': g_string_append(n, "<br>\r\n"); break;
        default: g_string_append_c(n, note[i]);
        }
    g_string_append(n, "</p>\r\n");
    g_string_insert_len(s, (gssize)at, n->str, (gssize)n->len);
    g_string_free(n, TRUE);
    *out_len = s->len;
    return g_string_free(s, FALSE);
}

/* text (UTF-8) with the note on new lines after it. malloc'd. */
static char *text_with_note(const char *text, size_t len, const char *note, size_t nlen, size_t *out_len)
{
    GString *s = g_string_new_len(text, (gssize)len);
    if (s->len && s->str[s->len - 1] != '\n')
        g_string_append(s, "\r\n");
    g_string_append(s, "\r\n");
    g_string_append_len(s, note, (gssize)nlen);
    if (nlen == 0 || note[nlen - 1] != '\n')
        g_string_append(s, "\r\n");
    *out_len = s->len;
    return g_string_free(s, FALSE);
}

/* The first text/plain and text/html parts of the message itself (not inside
 * a forwarded message, not attachments); -1 when there is none. */
static void find_text_parts(const pm_mime_t *m, long *plain, long *html)
{
    *plain = *html = -1;
    for (size_t i = 0; i < m->n_parts; i++) {
        const pm_mime_part_t *p = &m->parts[i];
        if (strcmp(p->content_type, "message/rfc822") == 0) {
            while (i + 1 < m->n_parts && m->parts[i + 1].depth > p->depth)
                i++; /* skip the forwarded message */
            continue;
        }
        if (p->removed || p->text == NULL || (p->disposition && strcmp(p->disposition, "attachment") == 0) ||
            p->filename)
            continue;
        if (*plain < 0 && strcmp(p->content_type, "text/plain") == 0)
            *plain = (long)i;
        if (*html < 0 && strcmp(p->content_type, "text/html") == 0)
            *html = (long)i;
    }
}

static void note_into(pm_mime_t *m, size_t index, int html, const char *note, size_t nlen)
{
    const pm_mime_part_t *p = &m->parts[index];
    size_t len;
    char *joined = html ? html_with_note(p->text, p->text_len, note, nlen, &len)
                        : text_with_note(p->text, p->text_len, note, nlen, &len);
    set_content(GMIME_PART(m->objects[index]), joined, len);
    g_free(joined);
    refresh(m, index);
}

/* No text part: the note becomes one, the last part of a multipart/mixed
 * root, or beside the old root in a new multipart/mixed. */
static void note_as_part(pm_mime_t *m, const char *note, size_t nlen)
{
    size_t len;
    char *text = text_with_note("", 0, note, nlen, &len);
    GMimePart *part = new_leaf("text/plain", text + 2, len - 2); /* without the blank line */
    g_free(text);
    GMimeObject *root = m->objects[0];
    GMimeContentType *ct = g_mime_object_get_content_type(root);
    if (GMIME_IS_MULTIPART(root) && ct && g_ascii_strcasecmp(g_mime_content_type_get_media_subtype(ct), "mixed") == 0) {
        g_mime_multipart_add(GMIME_MULTIPART(root), GMIME_OBJECT(part));
        /* the root's subtree is the whole list: its new last child is the last record */
        pm_mime_append_record(m, GMIME_OBJECT(part), 1, 0);
    } else {
        GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");
        g_object_ref(root); /* the message lets go of it below */
        g_mime_multipart_add(mixed, root);
        g_mime_multipart_add(mixed, GMIME_OBJECT(part));
        g_mime_message_set_mime_part(GMIME_MESSAGE(m->message), GMIME_OBJECT(mixed));
        g_object_unref(root);
        g_object_unref(mixed);
        pm_mime_rewalk(m);
    }
    g_object_unref(part);
}

int pm_mime_append_note(pm_mime_t *m, const char *text, size_t len, char *err, size_t errlen)
{
    if (editable(m, 0, err, errlen))
        return -1;
    long plain, html;
    find_text_parts(m, &plain, &html);
    if (plain >= 0)
        note_into(m, (size_t)plain, 0, text, len);
    if (html >= 0)
        note_into(m, (size_t)html, 1, text, len);
    if (plain < 0 && html < 0)
        note_as_part(m, text, len);
    m->edited = 1;
    return 0;
}

/* A header value on one line, without surrounding white space; NULL stays NULL. */
static char *unfolded(const char *v)
{
    if (v == NULL)
        return NULL;
    while (isspace((unsigned char)*v))
        v++;
    char *out = strdup(v), *o = out;
    for (const char *c = v; *c; c++)
        if (*c == '\r' || *c == '\n') {
            while (c[1] == ' ' || c[1] == '\t')
                c++;
            *o++ = ' ';
        } else
            *o++ = *c;
    while (o > out && isspace((unsigned char)o[-1]))
        o--;
    *o = '\0';
    return out;
}

/* A rebuilt message is valid MIME even if the original was not: a multipart
 * without a boundary parameter gets one (GMime would write "--(null)"), and
 * one whose closing boundary was missing gets it. GMime 3.2 has no setter
 * for the latter; the field is in its public struct. */
static void repair_multiparts(GMimeObject *o)
{
    if (GMIME_IS_MESSAGE_PART(o)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
        if (inner && g_mime_message_get_mime_part(inner))
            repair_multiparts(g_mime_message_get_mime_part(inner));
        return;
    }
    if (!GMIME_IS_MULTIPART(o))
        return;
    GMimeMultipart *mp = GMIME_MULTIPART(o);
    if (g_mime_multipart_get_boundary(mp) == NULL)
        g_mime_multipart_set_boundary(mp, NULL); /* NULL: a random one */
    mp->write_end_boundary = TRUE;
    for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
        repair_multiparts(g_mime_multipart_get_part(mp, i));
}

int pm_mime_render(pm_mime_t *m, pm_mime_output_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (m->message == NULL)
        return refuse(err, errlen, "no parse to rebuild");
    m->rendered = 1;
    GMimeObject *root = g_mime_message_get_mime_part(GMIME_MESSAGE(m->message));
    repair_multiparts(root);
    GMimeFormatOptions *fo = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS); /* SMTP's line ends, as received */
    GMimeStream *mem = g_mime_stream_mem_new();
    g_mime_object_write_content_to_stream(root, fo, mem); /* sets a new multipart's boundary, so first */
    GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    out->body = malloc(bytes->len + 1);
    if (bytes->len)
        memcpy(out->body, bytes->data, bytes->len);
    out->body[bytes->len] = '\0';
    out->body_len = bytes->len;
    g_object_unref(mem);
    g_mime_format_options_free(fo);
    out->content_type = unfolded(g_mime_object_get_header(root, "Content-Type"));
    out->transfer_encoding = unfolded(g_mime_object_get_header(root, "Content-Transfer-Encoding"));
    return 0;
}

void pm_mime_output_clear(pm_mime_output_t *out)
{
    free(out->body);
    free(out->content_type);
    free(out->transfer_encoding);
    memset(out, 0, sizeof *out);
}
