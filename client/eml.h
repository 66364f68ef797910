/*++
 * eml - read an RFC 5322 message file (.eml) the way an MTA hands it to a milter
 *
 * Headers are split into name and raw value (what follows the colon, leading
 * space kept); folded continuation lines are joined with "\n" as Sendmail and
 * Postfix do. The body gets CRLF line endings (a lone LF becomes CRLF). An mbox
 * "From " first line is skipped. Envelope defaults come from From: and To:.
 * DIAGNOSTICS: eml_load returns -1 with a reason in err.
 *--*/
#ifndef PMC_EML_H
#define PMC_EML_H

#include <stddef.h>

typedef struct {
    char *name;  /* owned */
    char *value; /* owned; raw text after the colon, folds joined with "\n" */
} eml_header_t;

typedef struct {
    eml_header_t *hdr; /* owned array of nhdr */
    size_t nhdr;
    char *body;        /* owned; CRLF line endings */
    size_t body_len;   /* bytes */
} eml_t;

int eml_load(eml_t *m, const char *path, char *err, size_t errlen);
/* Parses a message held in memory. Never fails. */
void eml_parse(eml_t *m, const char *data, size_t len);
/* Value of the first header called name (case-insensitive), or NULL. */
const char *eml_header(const eml_t *m, const char *name);
/* Splits an address-list header value into addresses: the part in angle brackets,
 * or the bare address with comments and spaces removed. Each is returned as a
 * malloc'd "<addr>"; *out is a malloc'd array. Returns the count. */
size_t eml_addresses(const char *value, char ***out);
void eml_free(eml_t *m);

#endif
