/* mime: the MIME structure of one message, parsed by GMime into plain C
 * records (docs/mime.md), and its rewriting (remove, replace, append a note;
 * src/mime/mime_edit.c). A parse is one pm_mime_t, owned by the session that
 * asked for it and freed at the end of the message. The GMime tree stays
 * behind it (opaque here) so that edits keep every other part's bytes.
 * Threads: any; a pm_mime_t belongs to one owner. GMime is initialised once
 * per process (pm_mime_parse does it). */
#ifndef PM_MIME_H
#define PM_MIME_H
#include <stddef.h>

typedef struct pm_mime_part {
    char *content_type;   /* "text/plain", lower case */
    char **params;        /* Content-Type parameters: name, value, ...; NULL-terminated; decoded */
    char **headers;       /* name, value, ... in order, NULL-terminated; values raw (unfolded) */
    char *filename;       /* decoded (RFC 2231/2047) UTF-8, or NULL */
    char *disposition;    /* "attachment", "inline", lower case, or NULL */
    char *body;           /* decoded bytes (leaf parts; NULL for containers) */
    size_t size;          /* decoded bytes */
    char *text;           /* text leaf parts: body in UTF-8 (bad bytes -> U+FFFD); else NULL */
    size_t text_len;
    int depth;            /* 0 for the root */
    long parent;          /* index of the parent part, -1 for the root */
    int encrypted, signed_; /* multipart/encrypted, multipart/signed */
    int removed;          /* removed by pm_mime_remove (or inside a removed or replaced part) */
} pm_mime_part_t;

typedef struct pm_mime_limits {
    int max_depth;              /* nesting levels below the root */
    size_t max_parts;
    size_t max_decoded_size;    /* decoded bytes of all parts together */
} pm_mime_limits_t;

typedef struct pm_mime {
    pm_mime_part_t *parts; /* depth-first order; parts[0] is the root */
    size_t n_parts;
    char *limit_error;     /* the limit hit, as a sentence; NULL if none (then parts are empty) */
    int truncated;         /* the body given was cut (max_body_size) */
    int edited;            /* an edit was made: the body must be rebuilt */
    int rendered;          /* pm_mime_render ran: no more edits */
    void *message;         /* the GMimeMessage (owned), NULL after a limit error */
    void **objects;        /* per part: its GMimeObject (borrowed from message), NULL once removed */
    void **messages;       /* per part: the GMimeMessage it is the root of, else NULL */
    size_t n_alloc;        /* room in parts, objects, messages */
} pm_mime_t;

/* What a rebuilt message needs: the new body and the root's MIME headers
 * (unfolded values; NULL when the root has none). All malloc'd. */
typedef struct pm_mime_output {
    char *body;
    size_t body_len;
    char *content_type, *transfer_encoding;
} pm_mime_output_t;

/* Parses a whole message (header lines, empty line, body). Never NULL. */
pm_mime_t *pm_mime_parse(const char *raw, size_t len, int truncated, const pm_mime_limits_t *limits);
pm_mime_t *pm_mime_free(pm_mime_t *m);
/* Edits at eom. Each returns 0, or -1 with a sentence in err: the root or a
 * part already removed, a truncated message (its end would be lost), a
 * multipart left empty, edits after pm_mime_render. Parts keep their index;
 * a removed or replaced part's subtree is marked removed. */
int pm_mime_remove(pm_mime_t *m, size_t index, char *err, size_t errlen);
/* The part (the root too) becomes one new part of content_type ("type/sub")
 * holding text (text/\* gets charset=utf-8). */
int pm_mime_replace(pm_mime_t *m, size_t index, const char *content_type, const char *text, size_t len, char *err,
                    size_t errlen);
/* Appends text (UTF-8) to the first text/plain and the first text/html part
 * of the message (not of forwarded ones); with neither, adds a text/plain
 * part (last part of a multipart root, or root and note wrapped into a
 * multipart/mixed). */
int pm_mime_append_note(pm_mime_t *m, const char *text, size_t len, char *err, size_t errlen);
/* The rebuilt body (CRLF line ends; untouched parts keep their bytes) and
 * root headers. 0, or -1 with err. Ends editing. */
int pm_mime_render(pm_mime_t *m, pm_mime_output_t *out, char *err, size_t errlen);
void pm_mime_output_clear(pm_mime_output_t *out);

/* The names of the files in a zip archive (its central directory; at most
 * max), UTF-8, NULL-terminated, *n of them; NULL if data is not a zip.
 * Caller frees each and the list (src/mime/mime_zip.c, libzip). */
char **pm_mime_zip_names(const char *data, size_t len, size_t max, size_t *n);

/* RFC 2047 decoding of one header value to UTF-8; malloc'd. */
char *pm_mime_decode_header(const char *value);
/* Calls found for every http/https URL in text (HTML character references
 * decoded first; src/mime/mime_urls.c); returns how many. */
size_t pm_mime_urls(const char *text, size_t len, void (*found)(void *arg, const char *url, size_t n), void *arg);

/* Counters since start, for the metrics endpoint (docs/metrics.md). */
enum { PM_MIME_LIMIT_DEPTH, PM_MIME_LIMIT_PARTS, PM_MIME_LIMIT_DECODED_SIZE, PM_MIME_LIMITS };
typedef struct pm_mime_stats {
    unsigned long long parses;     /* pm_mime_parse calls */
    unsigned long long unparsable; /* GMime built no message */
    unsigned long long ns;         /* time spent parsing, total */
    unsigned long long limit_hit[PM_MIME_LIMITS]; /* parses stopped by max_depth, max_parts, max_decoded_size */
} pm_mime_stats_t;
pm_mime_stats_t pm_mime_stats(void);

#endif
