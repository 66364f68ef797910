/*++
 * milter_proto - the MTA side of the milter protocol, version 6
 *
 * Framing (4-byte big-endian length, command byte, data), option negotiation,
 * macros, and reading replies: a phase's verdict plus, at end of message, the
 * modification actions. Knows what the milter negotiated (SMFIP_NO* phases are
 * not sent, SMFIP_NR_* phases are not waited for, symbol lists filter macros)
 * and checks every reply before use: frame size, NUL-terminated strings, actions
 * only at eom and only when negotiated. One mc_conn_t per thread.
 * DIAGNOSTICS: functions return -1 and leave a one-line reason in c->err.
 *--*/
#ifndef PMC_MILTER_PROTO_H
#define PMC_MILTER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "cbuf.h"

/* Phases, in SMTP order. */
enum { MC_CONNECT, MC_HELO, MC_ENVFROM, MC_ENVRCPT, MC_DATA, MC_HEADER, MC_EOH, MC_BODY, MC_EOM, MC_NPHASES };

/* What a milter answered for a phase. MCV_NONE: not sent (SMFIP_NO*), named "not_sent"; MCV_NOREPLY: sent, no reply expected (SMFIP_NR_*). */
enum { MCV_NONE, MCV_NOREPLY, MCV_CONTINUE, MCV_ACCEPT, MCV_REJECT, MCV_TEMPFAIL, MCV_DISCARD, MCV_SKIP };

/* Modification actions, sent by the milter at eom before its verdict. */
enum { MCA_ADDHEADER, MCA_INSHEADER, MCA_CHGHEADER, MCA_CHGFROM, MCA_ADDRCPT, MCA_DELRCPT, MCA_REPLBODY, MCA_QUARANTINE };

#define MC_PROT_VERSION 6
#define MC_CHUNK 65535              /* MILTER_CHUNK_SIZE: largest body chunk */
#define MC_MAX_FRAME (1024 * 1024 + 64) /* reply frames above this are a protocol error */
#define MC_ALL_ACTIONS 0x1ffu       /* SMFI_CURR_ACTS */
#define MC_ALL_PROTO 0x1fffffu      /* SMFI_CURR_PROT: every NO, NR, SKIP, RCPT_REJ, HDR_LEADSPC */
#define MC_P_SKIP 0x400u            /* SMFIP_SKIP */
#define MC_P_HDR_LEADSPC 0x100000u  /* SMFIP_HDR_LEADSPC */

typedef struct {
    int kind;        /* MCA_* */
    uint32_t index;  /* header index (insheader, chgheader), 1-based as sent */
    const char *a;   /* header name, address (chgfrom, addrcpt, delrcpt), quarantine reason */
    const char *b;   /* header value, ESMTP args (NULL if none) */
    const char *data; /* replbody: chunk bytes */
    size_t len;       /* replbody: chunk length */
} mc_action_t;

/* Called for each action at eom; pointers are valid only during the call. */
typedef void (*mc_action_fn)(void *arg, const mc_action_t *a);

typedef struct {
    int fd;                /* -1 when closed */
    int timeout_ms;        /* per read/write/connect */
    uint32_t version;      /* negotiated protocol version */
    uint32_t actions;      /* SMFIF_* the milter may use */
    uint32_t pflags;       /* SMFIP_* in force (masked to what we offered) */
    char *symlist[7];      /* owned; per SMFIM_* stage, NULL = send all macros */
    cbuf_t out;            /* queued packets not yet written */
    cbuf_t in;             /* bytes read, packets parsed from in_off */
    size_t in_off;         /* start of unparsed input */
    cbuf_t reply;          /* SMTP reply text of the last verdict ('y', '4'), "" if none */
    unsigned progress;     /* SMFIR_PROGRESS replies seen */
    char err[512];         /* reason of the last -1 */
} mc_conn_t;

const char *mc_phase_name(int phase);
/* Phase by name (connect, helo, envfrom|mail|from, envrcpt|rcpt|to, data, header, eoh, body, eom), -1 if unknown. */
int mc_phase_by_name(const char *name, size_t len);
/* The SMFIM_* macro stage of a phase, or -1 for header and body. */
int mc_macro_stage(int phase);
const char *mc_verdict_name(int v);
/* The command letter of a phase. */
char mc_phase_cmd(int phase);

void mc_init(mc_conn_t *c, int timeout_ms);
/* Connects to unix:/path, local:/path, /path, inet:PORT@HOST, inet6:PORT@HOST. */
int mc_open(mc_conn_t *c, const char *spec);
/* Offers version 6 with actions and pflags, reads the milter's choice and symbol lists. */
int mc_negotiate(mc_conn_t *c, uint32_t actions, uint32_t pflags);
/* True if the milter asked not to receive this phase (SMFIP_NO*). */
int mc_skipped(const mc_conn_t *c, int phase);
/* True if the milter negotiated no reply for this phase (SMFIP_NR_*). */
int mc_noreply(const mc_conn_t *c, int phase);
/* Queues the macros of a phase (pairs of name, value) as one SMFIC_MACRO packet, keeping only
 * names in the milter's symbol list for that stage, if it set one. Nothing if none are left. */
void mc_macros(mc_conn_t *c, int phase, const char *const *pairs, size_t npairs);
/* Starts a packet in c->out; append its data to c->out, then call mc_end with the result. */
size_t mc_begin(mc_conn_t *c, char cmd);
void mc_end(mc_conn_t *c, size_t at);
/* Queues a packet with a ready payload. */
void mc_queue(mc_conn_t *c, char cmd, const void *data, size_t len);
/* Writes everything queued. */
int mc_flush(mc_conn_t *c);
/* Finishes a phase whose packet is queued: returns MCV_NOREPLY if the milter negotiated no reply,
 * else flushes and reads replies until a verdict (skipping progress), passing eom actions to fn.
 * Returns the MCV_* verdict, or -1 (c->err) on a protocol error. */
int mc_reply(mc_conn_t *c, int phase, mc_action_fn fn, void *arg);
/* Sends SMFIC_ABORT (no reply). */
void mc_abort(mc_conn_t *c);
/* Sends SMFIC_QUIT if connected and closes; keeps the buffers for the next mc_open. */
void mc_disconnect(mc_conn_t *c);
/* mc_disconnect, then frees the buffers. */
void mc_close(mc_conn_t *c);

#endif
