/* actions: the message modifications a handler may request at eom, checked
 * before they reach libmilter. The only writer of smfi_* modification calls.
 * Each returns 0, or -1 with the reason in err: invalid input (the binding
 * raises ArgumentError) or libmilter refusing (e.g. the MTA did not grant the
 * action at negotiation). */
#ifndef PM_ACTIONS_H
#define PM_ACTIONS_H
#include <libmilter/mfapi.h>
#include <stddef.h>

typedef enum { PM_ACTION_OK = 0, PM_ACTION_INVALID = -1, PM_ACTION_FAILED = -2 } pm_action_result_t;

/* RFC 5322 field name: printable US-ASCII except ':' and space, 1-997 bytes. */
int pm_valid_header_name(const char *name, char *err, size_t errlen);
/* No NUL; CR and LF only as a folded continuation (CRLF/LF followed by SP or TAB). */
int pm_valid_header_value(const char *value, size_t len, char *err, size_t errlen);
/* An envelope address or ESMTP argument: no NUL, CR or LF. */
int pm_valid_envelope(const char *what, const char *value, size_t len, char *err, size_t errlen);

pm_action_result_t pm_action_add_header(SMFICTX *ctx, const char *name, const char *value, size_t vlen, char *err,
                                        size_t errlen);
pm_action_result_t pm_action_change_from(SMFICTX *ctx, const char *addr, const char *args, char *err, size_t errlen);
pm_action_result_t pm_action_add_rcpt(SMFICTX *ctx, const char *addr, const char *args, char *err, size_t errlen);

#endif
