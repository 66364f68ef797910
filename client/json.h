/*++
 * json - just enough JSON writing for pmilter-client's reports
 *
 * json_str appends a quoted, escaped JSON string: quote, backslash and control
 * characters are escaped, valid UTF-8 passes through, and each byte of an invalid
 * UTF-8 sequence becomes U+FFFD, so the output is always valid JSON.
 *--*/
#ifndef PMC_JSON_H
#define PMC_JSON_H

#include <stddef.h>

#include "cbuf.h"

void json_strn(cbuf_t *b, const char *s, size_t n);
/* Appends s quoted, or null when s is NULL. */
void json_str(cbuf_t *b, const char *s);

#endif
