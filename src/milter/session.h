/* session: what pmilter knows about one MTA connection (one SMFICTX), and the
 * per-callback context a handler runs in. The session lives in C, not in a VM:
 * a connection's callbacks may run on different VMs (DESIGN.md decision 3).
 * Created at negotiation (or the first callback), freed at close. Only the
 * libmilter worker currently serving the connection touches it. Everything
 * kept per message is bounded by the config's max_* limits, and what all
 * sessions keep together by max_input_memory (a process-wide count). */
#ifndef PM_SESSION_H
#define PM_SESSION_H
#include <libmilter/mfapi.h>
#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/phase.h"
#include "milter/store.h"

typedef struct pm_header {
    char *name, *value; /* owned */
} pm_header_t;

typedef struct pm_rcpt {
    char *addr;  /* RCPT TO argument as given */
    char **args; /* ESMTP parameters, NULL-terminated; owned */
} pm_rcpt_t;

typedef struct pm_session {
    unsigned long id;     /* process-wide counter, for log lines */
    struct pm_runtime *rt; /* config generation of this session; released at close */
    int fd;                /* the MTA connection (for the watchdog), -1 if unknown */
    char *client_addr;    /* "127.0.0.1", "::1"; NULL: unix socket or unknown */
    char *client_host;    /* host name from the connect command */
    int client_family;    /* AF_INET, AF_INET6, AF_UNIX, or AF_UNSPEC */
    int client_port;      /* 0 when not inet */
    char *helo;           /* last HELO/EHLO argument */
    int mta_offers_skip;  /* the MTA offered SMFIP_SKIP at negotiation */
    int refused;          /* over max_sessions or stopping: every phase answers tempfail */
    unsigned no_reply;    /* bit (1 << phase): negotiated SMFIP_NR_*, the callback must answer NOREPLY */
    pm_store_t store;     /* Pmilter::Session#[]; cleared at close */

    /* Per message: reset after eom and abort, and at MAIL FROM. */
    char *envfrom;        /* MAIL FROM argument as given, e.g. "<a@example.com>" */
    char **envfrom_args;  /* its ESMTP parameters, NULL-terminated */
    pm_rcpt_t *rcpts;     /* accepted recipients in order (at most max_recipients) */
    size_t n_rcpts;
    pm_rcpt_t last_rcpt;  /* the latest RCPT TO, accepted or not */
    pm_header_t *headers; /* in order, duplicates kept (at most max_headers) */
    size_t n_headers;
    pm_buf_t body;        /* body bytes, at most max_body_size */
    size_t header_bytes;  /* bytes of the kept headers, at most max_header_bytes */
    const char *header_limit; /* the limit that stopped keeping headers; none kept after it */
    size_t kept_bytes;    /* headers and body kept, counted in the process-wide total */
    size_t message_size;  /* header and body bytes seen, kept or not */
    int limit_logged;     /* a limit warning was logged for this message */
    int in_message;       /* counted in milter.c's open_messages */
    int message_refused;  /* begun while stopping: answered tempfail */
    time_t receive_time;  /* when the message began (MAIL FROM, else its first callback) */
    pm_store_t message_store; /* Pmilter::Session#message_store */
    double dns_ms;        /* ms handlers waited on DNS in this message (logged at eom) */
    long long handler_us; /* µs handlers ran in this message (runner.c); for the per-message log line */
    long long kv_us;      /* µs handlers waited on Pmilter::KV in this message (mrb_kv.c) */
    int decided_phase;    /* pm_phase_t whose verdict ended the message; -1 until one did */
    char reply_code[4];   /* the reply code sent with that verdict; "" if the MTA's default */
    struct timespec message_start; /* CLOCK_MONOTONIC at MAIL FROM; 0 outside a message (metrics) */
    struct pm_mime *mime; /* Session#mime's parse (src/mime), made on first use at eom; NULL before */
    struct pm_spf_result *spf, *spf_helo; /* Session#spf, #spf_helo (src/auth), made on first use; NULL before */
    struct pm_dkim_sig *dkim_sigs; /* the message's DKIM verification (src/auth), made once at eom by the first */
    int n_dkim_sigs, dkim_verified; /* of Session#dkim, #dmarc, #authentication_results to ask */
} pm_session_t;

/* A reply text a handler asked for (set_reply), applied with a reject or tempfail verdict. */
typedef struct pm_reply {
    char rcode[4];  /* "550"; "" when none */
    char *xcode;    /* "5.7.1" or NULL; owned */
    char **lines;   /* NULL-terminated; owned */
} pm_reply_t;

/* A header edit an eom handler made (Headers#add/insert/change/delete): kept
 * for the call so that Session#dkim_sign signs the headers as they will leave. */
typedef struct pm_header_edit {
    char kind;   /* 'a' add (last), 'i' insert at index (0: first), 'c' change index'th name (value NULL: delete) */
    int index;
    char *name, *value; /* one allocation, at name (value points into it or is NULL) */
} pm_header_edit_t;

/* One handler invocation: what the Ruby bindings read through mrb->ud. */
typedef struct pm_call {
    const pm_config_t *cfg;
    pm_phase_t phase;
    pm_session_t *session; /* NULL in postconfig and master_exit */
    SMFICTX *ctx;          /* NULL in postconfig and master_exit */
    int status;            /* Pmilter.status: SMFIS_*, CONTINUE at start */
    pm_reply_t reply;      /* set_reply; freed by the caller after the callback */
    /* Phase arguments, borrowed from libmilter for the callback only. */
    const char *header_name, *header_value;
    const unsigned char *body_chunk;
    size_t body_len;
    const char *unknown_cmd;
    struct timespec started; /* CLOCK_MONOTONIC, set by the runner: bounds DNS waits by handler_timeout */
    char error_class[64];    /* a failed run: the exception's class, "timeout" or "no_vm" (metrics) */
    pm_header_edit_t *edits; /* header edits applied so far in this call, in order; freed by pm_call_clear_edits */
    size_t n_edits;
    int body_replaced;       /* Session#replace_body was called: no MIME edits after it */
    int mime_edited;         /* a MIME::Part edit was made: no replace_body after it (src/ruby/mrb_mime.c) */
} pm_call_t;

pm_session_t *pm_session_new(const pm_config_t *cfg);
pm_session_t *pm_session_free(pm_session_t *s);
/* Keeps a header for Session#headers, or returns the name of the limit that
 * stops it (max_headers, max_header_bytes, max_input_memory). */
const char *pm_session_keep_header(pm_session_t *s, const pm_config_t *cfg, const char *name, const char *value);
/* Keeps a body chunk for Session#body, or what fits; returns the name of the
 * limit that cut it (max_body_size, max_input_memory), NULL if all was kept. */
const char *pm_session_keep_body(pm_session_t *s, const pm_config_t *cfg, const void *chunk, size_t len);
/* Forgets the per-message fields (after eom and abort, and at MAIL FROM),
 * and gives memory back to the system after big messages. */
void pm_session_end_message(pm_session_t *s);
/* Replaces *field with a copy of value (NULL clears it). */
void pm_session_set(char **field, const char *value);
/* A NULL-terminated copy of argv, NULL when argv is NULL or empty (readers
 * take NULL as no arguments), and its release. */
char **pm_argv_dup(char *const *argv);
char **pm_argv_free(char **argv);
void pm_reply_clear(pm_reply_t *r);
/* Notes a header edit the MTA accepted; pm_call_clear_edits frees the list. */
void pm_call_note_edit(pm_call_t *call, char kind, int index, const char *name, const char *value);
void pm_call_clear_edits(pm_call_t *call);

#endif
