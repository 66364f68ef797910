/* actions: validated wrappers around libmilter's modification calls. */
#include "milter/actions.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

int pm_valid_header_name(const char *name, char *err, size_t errlen)
{
    size_t len = strlen(name);
    if (len == 0 || len > 997) {
        snprintf(err, errlen, "header name must be 1-997 bytes, got %zu", len);
        return -1;
    }
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 33 || *p > 126 || *p == ':') {
            snprintf(err, errlen, "invalid byte 0x%02x in header name", *p);
            return -1;
        }
    return 0;
}

int pm_valid_header_value(const char *value, size_t len, char *err, size_t errlen)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c == '\0') {
            snprintf(err, errlen, "NUL byte in header value");
            return -1;
        }
        if (c == '\r' || c == '\n') {
            size_t j = i;
            if (c == '\r' && j + 1 < len && value[j + 1] == '\n')
                j++;
            /* A line break is allowed only as folding: followed by white space. */
            if (j + 1 >= len || (value[j + 1] != ' ' && value[j + 1] != '\t')) {
                snprintf(err, errlen, "line break in header value that is not a folded continuation");
                return -1;
            }
            i = j;
        }
    }
    return 0;
}

int pm_valid_envelope(const char *what, const char *value, size_t len, char *err, size_t errlen)
{
    if (len == 0) {
        snprintf(err, errlen, "empty %s", what);
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        if (value[i] == '\0' || value[i] == '\r' || value[i] == '\n') {
            snprintf(err, errlen, "%s contains a NUL, CR or LF byte", what);
            return -1;
        }
    return 0;
}

static pm_action_result_t result(int rc, const char *call, char *err, size_t errlen)
{
    if (rc == MI_SUCCESS)
        return PM_ACTION_OK;
    snprintf(err, errlen, "%s failed (was the action granted by the MTA at negotiation?)", call);
    return PM_ACTION_FAILED;
}

pm_action_result_t pm_action_add_header(SMFICTX *ctx, const char *name, const char *value, size_t vlen, char *err,
                                        size_t errlen)
{
    if (pm_valid_header_name(name, err, errlen) || pm_valid_header_value(value, vlen, err, errlen))
        return PM_ACTION_INVALID;
    return result(smfi_addheader(ctx, (char *)name, (char *)value), "smfi_addheader", err, errlen);
}

pm_action_result_t pm_action_change_from(SMFICTX *ctx, const char *addr, const char *args, char *err, size_t errlen)
{
    if (pm_valid_envelope("sender", addr, strlen(addr), err, errlen) ||
        (args && pm_valid_envelope("ESMTP arguments", args, strlen(args), err, errlen)))
        return PM_ACTION_INVALID;
    return result(smfi_chgfrom(ctx, (char *)addr, (char *)args), "smfi_chgfrom", err, errlen);
}

pm_action_result_t pm_action_add_rcpt(SMFICTX *ctx, const char *addr, const char *args, char *err, size_t errlen)
{
    if (pm_valid_envelope("recipient", addr, strlen(addr), err, errlen) ||
        (args && pm_valid_envelope("ESMTP arguments", args, strlen(args), err, errlen)))
        return PM_ACTION_INVALID;
    if (args && *args)
        return result(smfi_addrcpt_par(ctx, (char *)addr, (char *)args), "smfi_addrcpt_par", err, errlen);
    return result(smfi_addrcpt(ctx, (char *)addr), "smfi_addrcpt", err, errlen);
}

#define MAX_REPLY_LINES 32 /* smfi_setmlreply's limit */
#define MAX_REPLY_LINE 980 /* libmilter's MAXREPLYLEN: a longer line makes smfi_set(ml)reply fail */

/* libmilter copies reply text as it is, and the MTA reads it as a format:
 * Sendmail expands '%', Postfix drops a lone one. Doubling each '%' makes
 * both show the text literally. */
static size_t escaped_len(const char *line)
{
    size_t n = 0;
    for (const char *p = line; *p; p++)
        n += *p == '%' ? 2 : 1;
    return n;
}

char *pm_reply_escape(const char *line)
{
    char *out = pm_malloc(escaped_len(line) + 1), *o = out;
    for (const char *p = line; *p; p++) {
        *o++ = *p;
        if (*p == '%')
            *o++ = '%';
    }
    *o = '\0';
    return out;
}

static int valid_reply_line(size_t i, const char *line, char *err, size_t errlen)
{
    for (const unsigned char *p = (const unsigned char *)line; *p; p++)
        if (*p < 0x20 || *p == 0x7f) {
            snprintf(err, errlen, "reply line %zu contains a control character (0x%02x)", i + 1, *p);
            return -1;
        }
    size_t len = escaped_len(line);
    if (len > MAX_REPLY_LINE) {
        snprintf(err, errlen, "reply line %zu is %zu bytes (each %% counts twice); libmilter's limit is %d", i + 1,
                 len, MAX_REPLY_LINE);
        return -1;
    }
    return 0;
}

int pm_valid_reply(const char *rcode, const char *xcode, char *const *lines, size_t n_lines, char *err, size_t errlen)
{
    if (strlen(rcode) != 3 || (rcode[0] != '4' && rcode[0] != '5') || !isdigit((unsigned char)rcode[1]) ||
        !isdigit((unsigned char)rcode[2])) {
        snprintf(err, errlen, "reply code must be 4xx or 5xx, got \"%s\"", rcode);
        return -1;
    }
    if (xcode) {
        /* class.subject.detail: 1 digit, 1-3 digits, 1-3 digits; class matches rcode */
        int a, b, c, used = 0;
        if (sscanf(xcode, "%1d.%3d.%3d%n", &a, &b, &c, &used) != 3 || (size_t)used != strlen(xcode) ||
            xcode[0] != rcode[0] || strspn(xcode, "0123456789.") != strlen(xcode)) {
            snprintf(err, errlen, "enhanced status code must look like %c.x.y to match %s, got \"%s\"", rcode[0],
                     rcode, xcode);
            return -1;
        }
    }
    if (n_lines > MAX_REPLY_LINES) {
        snprintf(err, errlen, "at most %d reply lines, got %zu", MAX_REPLY_LINES, n_lines);
        return -1;
    }
    for (size_t i = 0; i < n_lines; i++)
        if (valid_reply_line(i, lines[i], err, errlen))
            return -1;
    return 0;
}

pm_action_result_t pm_action_set_reply(SMFICTX *ctx, const char *rcode, const char *xcode, char *const *lines,
                                       char *err, size_t errlen)
{
    size_t n = 0;
    while (lines && lines[n] && n < MAX_REPLY_LINES)
        n++;
    char *l[MAX_REPLY_LINES + 1] = {0};
    for (size_t i = 0; i < n; i++)
        l[i] = pm_reply_escape(lines[i]);
    int rc = n <= 1 ? smfi_setreply(ctx, (char *)rcode, (char *)xcode, l[0])
                    : smfi_setmlreply(ctx, rcode, xcode, l[0], l[1], l[2], l[3], l[4], l[5], l[6], l[7], l[8], l[9],
                                      l[10], l[11], l[12], l[13], l[14], l[15], l[16], l[17], l[18], l[19], l[20],
                                      l[21], l[22], l[23], l[24], l[25], l[26], l[27], l[28], l[29], l[30], l[31],
                                      (char *)NULL);
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    return result(rc, n <= 1 ? "smfi_setreply" : "smfi_setmlreply", err, errlen);
}

pm_action_result_t pm_action_insert_header(SMFICTX *ctx, int index, const char *name, const char *value, char *err,
                                           size_t errlen)
{
    if (index < 0) {
        snprintf(err, errlen, "header index must be 0 or more, got %d", index);
        return PM_ACTION_INVALID;
    }
    if (pm_valid_header_name(name, err, errlen) || pm_valid_header_value(value, strlen(value), err, errlen))
        return PM_ACTION_INVALID;
    return result(smfi_insheader(ctx, index, (char *)name, (char *)value), "smfi_insheader", err, errlen);
}

pm_action_result_t pm_action_change_header(SMFICTX *ctx, const char *name, int index, const char *value, char *err,
                                           size_t errlen)
{
    if (index < 1) {
        snprintf(err, errlen, "header index must be 1 or more, got %d", index);
        return PM_ACTION_INVALID;
    }
    if (pm_valid_header_name(name, err, errlen) || (value && pm_valid_header_value(value, strlen(value), err, errlen)))
        return PM_ACTION_INVALID;
    return result(smfi_chgheader(ctx, (char *)name, index, (char *)value), "smfi_chgheader", err, errlen);
}

pm_action_result_t pm_action_delete_rcpt(SMFICTX *ctx, const char *addr, char *err, size_t errlen)
{
    if (pm_valid_envelope("recipient", addr, strlen(addr), err, errlen))
        return PM_ACTION_INVALID;
    return result(smfi_delrcpt(ctx, (char *)addr), "smfi_delrcpt", err, errlen);
}

pm_action_result_t pm_action_replace_body(SMFICTX *ctx, const char *body, size_t len, char *err, size_t errlen)
{
    if (len > INT_MAX) {
        snprintf(err, errlen, "replacement body of %zu bytes is too large", len);
        return PM_ACTION_INVALID;
    }
    /* libmilter sends nothing for a zero-length replacement (the body would
     * stay as it was); an empty line is the shortest body it can send. */
    if (len == 0) {
        body = "\r\n";
        len = 2;
    }
    /* libmilter sends it to the MTA in protocol-sized chunks. */
    return result(smfi_replacebody(ctx, (unsigned char *)body, (int)len), "smfi_replacebody", err, errlen);
}

pm_action_result_t pm_action_quarantine(SMFICTX *ctx, const char *reason, char *err, size_t errlen)
{
    if (reason[0] == '\0' || pm_valid_envelope("quarantine reason", reason, strlen(reason), err, errlen)) {
        if (reason[0] == '\0')
            snprintf(err, errlen, "quarantine reason must not be empty");
        return PM_ACTION_INVALID;
    }
    return result(smfi_quarantine(ctx, (char *)reason), "smfi_quarantine", err, errlen);
}

pm_action_result_t pm_action_progress(SMFICTX *ctx, char *err, size_t errlen)
{
    return result(smfi_progress(ctx), "smfi_progress", err, errlen);
}
