/* actions: the message modifications a handler may request at eom, checked
 * before they reach libmilter. The only writer of smfi_* modification calls.
 * Each returns 0, or -1 with the reason in err: invalid input (the binding
 * raises ArgumentError) or libmilter refusing (e.g. the MTA did not grant the
 * action at negotiation).
 * Threads: the libmilter worker serving the session (through a handler
 * at eom); never two calls on one SMFICTX at once. */
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

/* SMTP reply: rcode "4xx"/"5xx", xcode "d.ddd.ddd" with the same class (or
 * NULL), each line printable text without CR/LF, at most 32 lines, each at
 * most 980 bytes once escaped (libmilter refuses longer ones). */
int pm_valid_reply(const char *rcode, const char *xcode, char *const *lines, size_t n_lines, char *err, size_t errlen);
/* A reply line as the MTA must receive it: each '%' doubled, since Sendmail
 * reads the text as a format and Postfix drops a lone '%'. Caller frees. */
char *pm_reply_escape(const char *line);
/* Applies a validated reply (smfi_setreply, or smfi_setmlreply for several
 * lines), escaped with pm_reply_escape. */
pm_action_result_t pm_action_set_reply(SMFICTX *ctx, const char *rcode, const char *xcode, char *const *lines,
                                       char *err, size_t errlen);

pm_action_result_t pm_action_insert_header(SMFICTX *ctx, int index, const char *name, const char *value, char *err,
                                           size_t errlen);
/* value NULL deletes the index'th (1-based) header called name. */
pm_action_result_t pm_action_change_header(SMFICTX *ctx, const char *name, int index, const char *value, char *err,
                                           size_t errlen);
pm_action_result_t pm_action_delete_rcpt(SMFICTX *ctx, const char *addr, char *err, size_t errlen);
pm_action_result_t pm_action_replace_body(SMFICTX *ctx, const char *body, size_t len, char *err, size_t errlen);
pm_action_result_t pm_action_quarantine(SMFICTX *ctx, const char *reason, char *err, size_t errlen);
pm_action_result_t pm_action_progress(SMFICTX *ctx, char *err, size_t errlen);

pm_action_result_t pm_action_add_header(SMFICTX *ctx, const char *name, const char *value, size_t vlen, char *err,
                                        size_t errlen);
pm_action_result_t pm_action_change_from(SMFICTX *ctx, const char *addr, const char *args, char *err, size_t errlen);
pm_action_result_t pm_action_add_rcpt(SMFICTX *ctx, const char *addr, const char *args, char *err, size_t errlen);

#endif
