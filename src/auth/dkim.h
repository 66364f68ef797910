/* dkim: DKIM verification and signing (RFC 6376) over libopendkim. One
 * DKIM_LIB for the process, made by pm_dkim_start before any handler runs and
 * kept across reloads. Its key lookups go through src/dns (pm_dns_resolve),
 * so pmilter's cache, forwarders and deadlines apply; the caller gives each
 * verification a deadline in ms.
 * A message is given whole, at eom: its headers as received and its body as
 * kept (see docs/auth.md for why not chunk by chunk). Knows nothing of Ruby
 * or libmilter.
 * Threads: pm_dkim_start/stop from main only; verify and sign from any
 * thread, each call on its own libopendkim handle. Errors go to the caller. */
#ifndef PM_DKIM_H
#define PM_DKIM_H
#include <stddef.h>

typedef struct pm_dkim_header {
    const char *name, *value; /* value as received (no leading space; folded lines may end in LF or CRLF) */
} pm_dkim_header_t;

/* The body of a message: bytes kept (lines ending CRLF or LF) and whether
 * the MTA sent more than was kept (max_body_size). */
typedef struct pm_dkim_body {
    const unsigned char *data;
    size_t len;
    int truncated;
} pm_dkim_body_t;

/* One DKIM-Signature header's outcome. */
typedef struct pm_dkim_sig {
    char domain[256];   /* d= ("" if missing) */
    char selector[256]; /* s= */
    char identity[256]; /* i= or "@d" */
    char algorithm[32]; /* "rsa-sha256", "ed25519-sha256", "rsa-sha1" or "" */
    const char *result; /* "pass", "fail", "neutral", "temperror", "permerror", "policy" (static) */
    char reason[160];   /* why, for anything but pass; "" for pass */
    long body_length;   /* l= value, -1 if the signature covers the whole body */
    char b[16];         /* the first 8 characters of b= (RFC 6008 header.b), "" if none */
} pm_dkim_sig_t;

/* Creates the library handle and routes its DNS through src/dns. 0, or -1 with why. */
int pm_dkim_start(char *err, size_t errlen);
void pm_dkim_stop(void);

/* Verifies every DKIM-Signature of the message, waiting on DNS at most
 * timeout_ms in all. Returns the number of signatures (0: none) with *out
 * malloc'ed (caller frees), or -1 with why in err (the library failed). */
int pm_dkim_verify(const pm_dkim_header_t *headers, size_t n_headers, const pm_dkim_body_t *body, int timeout_ms,
                   pm_dkim_sig_t **out, char *err, size_t errlen);

/* What a private key is: "rsa-sha256" or "ed25519-sha256"; NULL (why in
 * err) if pem is not a PEM RSA or Ed25519 private key. */
const char *pm_dkim_key_algorithm(const char *pem, size_t len, char *err, size_t errlen);

typedef struct pm_dkim_sign_request {
    const char *domain, *selector;
    const char *key_pem; /* PEM private key (RSA or Ed25519) */
    size_t key_len;
    int simple_headers, simple_body; /* 0: relaxed (the default) */
} pm_dkim_sign_request_t;

/* Signs the message; returns the DKIM-Signature header's value (without the
 * name, folded with CRLF TAB), malloc'ed, or NULL with why in err. */
char *pm_dkim_sign(const pm_dkim_header_t *headers, size_t n_headers, const pm_dkim_body_t *body,
                   const pm_dkim_sign_request_t *req, char *err, size_t errlen);

#endif
