/*++
 * load - milter load generator: CONNS threads, each looping connect,
 * negotiate, MSGS messages, close, until SECONDS pass; then one summary
 * (messages/s, latency percentiles, verdicts, errors, own CPU per message).
 *--*/
#ifndef PMC_LOAD_H
#define PMC_LOAD_H

#include <stddef.h>

typedef struct {
    const char *spec;
    int conns;          /* threads, one connection each at a time */
    int msgs;           /* messages per connection */
    double seconds;     /* run time */
    size_t body_bytes;  /* generated body size (CRLF lines) */
    int headers;        /* generated header count */
    const char *from;   /* "<addr>" */
    const char *to;     /* "<addr>" */
    int timeout_ms;
    int json;
} load_opts_t;

/* Runs the load and prints the summary on stdout. Returns 0, or 3 if any error occurred or nothing was sent. */
int load_run(const load_opts_t *o);

#endif
