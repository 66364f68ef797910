/*++
 * play - play one SMTP transaction against a milter and record what it said
 *
 * Connect, helo, envfrom, envrcpt per recipient, data, headers, eoh, body in
 * chunks, eom, honouring what the milter negotiated, and stopping where an MTA
 * would (the first reject, tempfail, discard or accept; a rejected recipient
 * only drops that recipient). The result holds each phase's verdict and the
 * modifications requested at eom; report.c prints it.
 *--*/
#ifndef PMC_PLAY_H
#define PMC_PLAY_H

#include <stddef.h>
#include <stdint.h>

#include "cbuf.h"
#include "eml.h"

typedef struct {
    int phase;    /* MC_* */
    char *name;   /* owned; macro name */
    char *value;  /* owned */
} play_macro_t;

typedef struct {
    const char *spec;        /* milter address */
    int timeout_ms;
    const char *from;        /* "<addr> [ARGS...]" or NULL: from the message */
    const char **to;         /* same form; nto == 0: from the message */
    size_t nto;
    const char *client_ip;   /* "1.2.3.4", "::1", "unix:/path", "unknown" */
    const char *client_host;
    unsigned client_port;
    const char *helo;        /* NULL: client_host */
    const play_macro_t *macros; /* user macros, override the defaults */
    size_t nmacros;
} play_opts_t;

typedef struct {
    int phase;     /* MC_* */
    int verdict;   /* MCV_* */
    char *arg;     /* owned or NULL: what was sent (address, helo name, header name) */
    char *reply;   /* owned or NULL: SMTP reply text set by the milter */
    size_t count;  /* headers sent, body chunks sent */
    size_t total;  /* headers in message, body chunks in message */
    size_t bytes;  /* body bytes sent */
} play_step_t;

typedef struct {
    int kind;       /* MCA_* */
    uint32_t index;
    char *a, *b;    /* owned or NULL (see mc_action_t) */
    size_t size;    /* replace body: total bytes */
    cbuf_t head;    /* replace body: first bytes, up to PLAY_BODY_HEAD */
} play_mod_t;

#define PLAY_BODY_HEAD 4096

typedef struct {
    uint32_t version, actions, pflags; /* negotiated */
    play_step_t *steps;                 /* owned */
    size_t nsteps;
    play_mod_t *mods;                   /* owned, in the order received */
    size_t nmods;
    unsigned progress;                  /* SMFIR_PROGRESS replies */
    int verdict;                        /* final MCV_* */
    int stop_phase;                     /* where the verdict was given */
    char *reply;                        /* owned or NULL: reply text with the final verdict */
    char *error;                        /* owned or NULL: protocol error */
    int exit_code;                      /* 0 accept/continue, 1 reject/discard, 2 tempfail, 3 error */
    double elapsed_ms;                  /* connect to close, wall clock */
} play_result_t;

/* Plays the message; fills r. Returns r->exit_code. */
int play_run(const play_opts_t *o, const eml_t *m, play_result_t *r);
void play_result_free(play_result_t *r);

/* report.c */
void report_text(cbuf_t *out, const play_opts_t *o, const play_result_t *r);
void report_json(cbuf_t *out, const play_opts_t *o, const play_result_t *r);

#endif
