/* session: what pmilter knows about one MTA connection (one SMFICTX), and the
 * per-callback context a handler runs in. The session lives in C, not in a VM:
 * a connection's callbacks may run on different VMs (DESIGN.md decision 3).
 * Created at negotiation (or the first callback), freed at close. Only the
 * libmilter worker currently serving the connection touches it. */
#ifndef PM_SESSION_H
#define PM_SESSION_H
#include <libmilter/mfapi.h>
#include <stddef.h>
#include <time.h>

#include "config.h"
#include "phase.h"

typedef struct pm_session {
    unsigned long id;     /* process-wide counter, for log lines */
    char *client_addr;    /* "127.0.0.1", "::1"; NULL: unix socket or unknown */
    char *client_host;    /* host name from the connect command */
    int client_family;    /* AF_INET, AF_INET6, AF_UNIX, or AF_UNSPEC */
    int client_port;      /* 0 when not inet */
    char *helo;           /* last HELO/EHLO argument */
    int mta_offers_skip;  /* the MTA offered SMFIP_SKIP at negotiation */
    unsigned no_reply;    /* bit (1 << phase): negotiated SMFIP_NR_*, the callback must answer NOREPLY */

    /* Per message: reset after eom and abort. */
    char *envfrom;        /* MAIL FROM argument as given, e.g. "<a@example.com>" */
    char *envrcpt;        /* last RCPT TO argument */
    time_t receive_time;  /* when the message began (first message callback) */
} pm_session_t;

/* One handler invocation: what the Ruby bindings read through mrb->ud. */
typedef struct pm_call {
    const pm_config_t *cfg;
    pm_phase_t phase;
    pm_session_t *session; /* NULL in postconfig and master_exit */
    SMFICTX *ctx;          /* NULL in postconfig and master_exit */
    int status;            /* Pmilter.status: SMFIS_*, CONTINUE at start */
    /* Phase arguments, borrowed from libmilter for the callback only. */
    const char *header_name, *header_value;
    const unsigned char *body_chunk;
    size_t body_len;
    const char *unknown_cmd;
} pm_call_t;

pm_session_t *pm_session_new(void);
pm_session_t *pm_session_free(pm_session_t *s);
/* Forgets the per-message fields (after eom and abort). */
void pm_session_end_message(pm_session_t *s);
/* Replaces *field with a copy of value (NULL clears it). */
void pm_session_set(char **field, const char *value);

#endif
