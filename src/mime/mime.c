/* mime: GMime parses a message into GMime objects; this file walks them once,
 * depth-first, into plain pm_mime_part_t records (decoded bodies, UTF-8
 * text and names) and drops the GMime objects, so callers never see GLib.
 * Limits (depth, part count, decoded bytes) stop the walk with a reason.
 * Threads: any; g_mime_init runs once per process under pthread_once. */
#include <ctype.h>
#include <errno.h>
#include <gmime/gmime.h>
#include <iconv.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "mime/mime.h"
#include "mime/mime_tree.h"

/* pm_mime_stats: relaxed atomics, added to by every parse. */
static atomic_ullong stat_parses, stat_unparsable, stat_ns, stat_limit[PM_MIME_LIMITS];

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void gmime_start(void)
{
    g_mime_init();
}

void pm_mime_init_once(void)
{
    pthread_once(&gmime_once, gmime_start);
}

typedef struct walk {
    pm_mime_t *m;
    size_t decoded;
    const pm_mime_limits_t *lim;
    int limit_hit; /* PM_MIME_LIMIT_*, or -1 */
} walk_t;

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static char *lower(char *s)
{
    for (char *p = s; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return s;
}

static void append_pair(char ***list, size_t *n, const char *name, const char *value)
{
    *list = realloc(*list, (*n + 3) * sizeof **list);
    (*list)[(*n)++] = strdup(name ? name : "");
    (*list)[(*n)++] = strdup(value ? value : "");
    (*list)[*n] = NULL;
}

static char **params_of(GMimeContentType *ct)
{
    size_t n = 0;
    char **list = calloc(1, sizeof *list);
    GMimeParamList *pl = ct ? g_mime_content_type_get_parameters(ct) : NULL;
    for (int i = 0; pl && i < g_mime_param_list_length(pl); i++) {
        GMimeParam *p = g_mime_param_list_get_parameter_at(pl, i);
        char *name = lower(strdup(g_mime_param_get_name(p)));
        append_pair(&list, &n, name, g_mime_param_get_value(p));
        free(name);
    }
    return list;
}

static char **headers_of(GMimeObject *o)
{
    size_t n = 0;
    char **list = calloc(1, sizeof *list);
    GMimeHeaderList *hl = g_mime_object_get_header_list(o);
    for (int i = 0; hl && i < g_mime_header_list_get_count(hl); i++) {
        GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
        append_pair(&list, &n, g_mime_header_get_name(h), g_mime_header_get_raw_value(h));
    }
    return list;
}

/* Bytes in charset to UTF-8; an unconvertible byte becomes U+FFFD (never fails).
 * An unknown charset is read as UTF-8. */
static char *to_utf8(const char *in, size_t len, const char *charset, size_t *out_len)
{
    const char *cs = charset && *charset ? g_mime_charset_iconv_name(charset) : "US-ASCII";
    iconv_t cd = iconv_open("UTF-8", cs);
    if (cd == (iconv_t)-1)
        cd = iconv_open("UTF-8", "UTF-8");
    size_t cap = len * 4 + 16, used = 0;
    char *out = malloc(cap);
    char *ip = (char *)in;
    size_t ileft = len;
    while (ileft > 0) {
        char *op = out + used;
        size_t oleft = cap - used - 4;
        size_t r = iconv(cd, &ip, &ileft, &op, &oleft);
        used = (size_t)(op - out);
        if (r != (size_t)-1)
            break;
        if (errno == E2BIG) {
            cap *= 2;
            out = realloc(out, cap);
            continue;
        }
        /* EILSEQ or EINVAL (cut sequence): replace one byte, go on */
        memcpy(out + used, "\xEF\xBF\xBD", 3);
        used += 3;
        ip++;
        ileft--;
        iconv(cd, NULL, NULL, NULL, NULL);
    }
    /* flush a stateful encoding (ISO-2022-JP back to ASCII) */
    char *op = out + used;
    size_t oleft = cap - used - 1;
    iconv(cd, NULL, NULL, &op, &oleft);
    used = (size_t)(op - out);
    out[used] = '\0';
    iconv_close(cd);
    *out_len = used;
    return out;
}

/* Keeps the first limit hit; the walk stops there. */
static int over_limit(walk_t *w, int limit, const char *reason)
{
    if (w->m->limit_error == NULL) {
        w->m->limit_error = strdup(reason);
        w->limit_hit = limit;
    }
    return -1;
}

/* Room for one more part record (parts, objects, messages grow together). */
static pm_mime_part_t *append_record(pm_mime_t *m)
{
    if (m->n_parts == m->n_alloc) {
        m->n_alloc = m->n_alloc ? m->n_alloc * 2 : 16;
        m->parts = realloc(m->parts, m->n_alloc * sizeof *m->parts);
        m->objects = realloc(m->objects, m->n_alloc * sizeof *m->objects);
        m->messages = realloc(m->messages, m->n_alloc * sizeof *m->messages);
    }
    size_t i = m->n_parts++;
    memset(&m->parts[i], 0, sizeof m->parts[i]);
    m->objects[i] = m->messages[i] = NULL;
    return &m->parts[i];
}

/* A leaf's decoded bytes, its file name and (text/\*) its UTF-8 text. */
static void decode_leaf(pm_mime_part_t *p, GMimePart *part)
{
    GMimeDataWrapper *content = g_mime_part_get_content(part);
    GMimeStream *mem = g_mime_stream_mem_new();
    if (content)
        g_mime_data_wrapper_write_to_stream(content, mem);
    GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    p->size = bytes->len;
    p->body = malloc(bytes->len + 1);
    if (bytes->len) /* an empty part has no data pointer */
        memcpy(p->body, bytes->data, bytes->len);
    p->body[bytes->len] = '\0';
    g_object_unref(mem);
    p->filename = dup_or_null(g_mime_part_get_filename(part));
    if (strncmp(p->content_type, "text/", 5) == 0) {
        const char *charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
        p->text = to_utf8(p->body, p->size, charset, &p->text_len);
    }
}

void pm_mime_fill_part(pm_mime_part_t *p, GMimeObject *o, GMimeObject *headers_from)
{
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    p->content_type = ct ? lower(g_mime_content_type_get_mime_type(ct)) : NULL;
    if (p->content_type == NULL)
        p->content_type = strdup("text/plain");
    p->params = params_of(ct);
    p->headers = headers_of(headers_from);
    GMimeContentDisposition *cd = g_mime_object_get_content_disposition(o);
    p->disposition = cd ? lower(dup_or_null(g_mime_content_disposition_get_disposition(cd))) : NULL;
    p->encrypted = GMIME_IS_MULTIPART_ENCRYPTED(o);
    p->signed_ = GMIME_IS_MULTIPART_SIGNED(o);
    if (GMIME_IS_PART(o))
        decode_leaf(p, GMIME_PART(o));
}

static int new_part(walk_t *w, GMimeObject *o, GMimeObject *headers_from, int depth, long parent)
{
    char why[96];
    if (w->m->n_parts >= w->lim->max_parts) {
        snprintf(why, sizeof why, "more than %zu parts (mime max_parts)", w->lim->max_parts);
        return over_limit(w, PM_MIME_LIMIT_PARTS, why);
    }
    if (depth > w->lim->max_depth) {
        snprintf(why, sizeof why, "nesting deeper than %d levels (mime max_depth)", w->lim->max_depth);
        return over_limit(w, PM_MIME_LIMIT_DEPTH, why);
    }
    size_t index = w->m->n_parts;
    pm_mime_part_t *p = append_record(w->m);
    p->depth = depth;
    p->parent = parent;
    w->m->objects[index] = o;
    if (GMIME_IS_MESSAGE(headers_from))
        w->m->messages[index] = headers_from;
    pm_mime_fill_part(p, o, headers_from);
    w->decoded += p->size;
    if (w->decoded > w->lim->max_decoded_size) {
        snprintf(why, sizeof why, "more than %zu decoded bytes (mime max_decoded_size)", w->lim->max_decoded_size);
        return over_limit(w, PM_MIME_LIMIT_DECODED_SIZE, why);
    }
    return 0;
}

static int walk_object(walk_t *w, GMimeObject *o, GMimeObject *headers_from, int depth, long parent);

static int walk_message(walk_t *w, GMimeMessage *msg, int depth, long parent)
{
    GMimeObject *root = g_mime_message_get_mime_part(msg);
    if (root == NULL) { /* no body at all: an empty text/plain root, as Python sees it */
        GMimePart *empty = g_mime_part_new_with_type("text", "plain");
        g_mime_message_set_mime_part(msg, GMIME_OBJECT(empty)); /* the message holds it, edits can reach it */
        g_object_unref(empty);
        root = GMIME_OBJECT(empty);
    }
    return walk_object(w, root, GMIME_OBJECT(msg), depth, parent);
}

static int walk_object(walk_t *w, GMimeObject *o, GMimeObject *headers_from, int depth, long parent)
{
    if (new_part(w, o, headers_from, depth, parent) < 0)
        return -1;
    long self = (long)(w->m->n_parts - 1);
    if (GMIME_IS_MULTIPART(o)) {
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        for (int i = 0; i < g_mime_multipart_get_count(mp); i++) {
            GMimeObject *child = g_mime_multipart_get_part(mp, i);
            if (walk_object(w, child, child, depth + 1, self) < 0)
                return -1;
        }
        return 0;
    }
    if (GMIME_IS_MESSAGE_PART(o)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
        return inner ? walk_message(w, inner, depth + 1, self) : 0;
    }
    return 0;
}

void pm_mime_append_record(pm_mime_t *m, GMimeObject *o, int depth, long parent)
{
    size_t index = m->n_parts;
    pm_mime_part_t *p = append_record(m);
    p->depth = depth;
    p->parent = parent;
    m->objects[index] = o;
    pm_mime_fill_part(p, o, o);
}

void pm_mime_rewalk(pm_mime_t *m)
{
    for (size_t i = 0; i < m->n_parts; i++)
        pm_mime_part_clear(&m->parts[i]);
    m->n_parts = 0;
    const pm_mime_limits_t none = {1 << 30, (size_t)-1, (size_t)-1};
    walk_t w = {m, 0, &none, -1};
    walk_message(&w, GMIME_MESSAGE(m->message), 0, -1);
}

void pm_mime_part_clear(pm_mime_part_t *p)
{
    free(p->content_type);
    for (char **l = p->params; l && *l; l++)
        free(*l);
    free(p->params);
    for (char **l = p->headers; l && *l; l++)
        free(*l);
    free(p->headers);
    free(p->filename);
    free(p->disposition);
    free(p->body);
    free(p->text);
}

pm_mime_t *pm_mime_parse(const char *raw, size_t len, int truncated, const pm_mime_limits_t *limits)
{
    pm_mime_init_once();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pm_mime_t *m = calloc(1, sizeof *m);
    m->truncated = truncated;
    walk_t w = {m, 0, limits, -1};
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(raw, len);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
    if (msg)
        walk_message(&w, msg, 0, -1);
    else
        m->limit_error = strdup("GMime could not parse the message");
    if (m->limit_error) { /* all or nothing: a handler never sees half a tree */
        for (size_t i = 0; i < m->n_parts; i++)
            pm_mime_part_clear(&m->parts[i]);
        m->n_parts = 0;
    }
    if (msg && m->limit_error == NULL)
        m->message = msg; /* kept for edits; unref'd by pm_mime_free */
    else if (msg)
        g_object_unref(msg);
    g_object_unref(parser);
    g_object_unref(stream);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    atomic_fetch_add_explicit(&stat_parses, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&stat_ns, (unsigned long long)((t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec)),
                              memory_order_relaxed);
    if (msg == NULL)
        atomic_fetch_add_explicit(&stat_unparsable, 1, memory_order_relaxed);
    else if (w.limit_hit >= 0)
        atomic_fetch_add_explicit(&stat_limit[w.limit_hit], 1, memory_order_relaxed);
    return m;
}

pm_mime_stats_t pm_mime_stats(void)
{
    pm_mime_stats_t st = {atomic_load(&stat_parses), atomic_load(&stat_unparsable), atomic_load(&stat_ns), {0}};
    for (int i = 0; i < PM_MIME_LIMITS; i++)
        st.limit_hit[i] = atomic_load(&stat_limit[i]);
    return st;
}

pm_mime_t *pm_mime_free(pm_mime_t *m)
{
    if (m == NULL)
        return NULL;
    for (size_t i = 0; i < m->n_parts; i++)
        pm_mime_part_clear(&m->parts[i]);
    free(m->parts);
    free(m->objects);
    free(m->messages);
    if (m->message)
        g_object_unref(m->message);
    free(m->limit_error);
    free(m);
    return NULL;
}

char *pm_mime_decode_header(const char *value)
{
    pm_mime_init_once();
    char *g = g_mime_utils_header_decode_text(NULL, value ? value : "");
    char *out = strdup(g ? g : "");
    g_free(g);
    return out;
}
