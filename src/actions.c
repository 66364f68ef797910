/* actions: validated wrappers around libmilter's modification calls. */
#include "actions.h"

#include <stdio.h>
#include <string.h>

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
