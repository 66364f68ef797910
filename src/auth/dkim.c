/* dkim: libopendkim behind a small C API (dkim.h). Owns the process's one
 * DKIM_LIB. Its DNS hooks answer libopendkim's key queries with
 * pm_dns_resolve, bounded by the deadline of the verification that asked
 * (a thread-local: libopendkim calls the hooks synchronously, inside
 * dkim_eoh/dkim_eom, on the caller's thread, and gives them no per-message
 * context).
 * Threads: start/stop from main; verify/sign from any libmilter worker. */
#include "auth/dkim.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <opendkim/dkim.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unbound.h>

#include "core/alloc.h"
#include "dns/dns.h"

static DKIM_LIB *lib;
static int dns_service; /* libopendkim wants a non-NULL service handle; we need none */
static _Thread_local struct timespec deadline; /* of the verification running on this thread */

/* One answered key query: libopendkim asks (start), waits (waitreply), then cancels. */
typedef struct {
    int status; /* DKIM_DNS_* */
    size_t len; /* bytes of the reply written into libopendkim's buffer */
} reply_t;

static int ms_left(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ms = (deadline.tv_sec - now.tv_sec) * 1000LL + (deadline.tv_nsec - now.tv_nsec) / 1000000;
    return ms < 0 ? 0 : ms > 600000 ? 600000 : (int)ms;
}

/* A reply with no answers and the given rcode (NXDOMAIN, NODATA): libunbound
 * keeps no packet for those, and libopendkim reads the rcode from one. */
static size_t empty_reply(const char *name, int type, int rcode, unsigned char *buf, size_t buflen)
{
    size_t nlen = strlen(name), need = 12 + nlen + 2 + 4;
    if (buflen < need || nlen > 253)
        return 0;
    memset(buf, 0, 12);
    buf[2] = 0x81; /* QR, RD */
    buf[3] = 0x80 | (rcode & 0x0f); /* RA, rcode */
    buf[5] = 1;    /* one question */
    size_t o = 12;
    for (const char *label = name; *label;) {
        size_t l = strcspn(label, ".");
        if (l == 0 || l > 63)
            return 0;
        buf[o++] = (unsigned char)l;
        memcpy(buf + o, label, l);
        o += l;
        label += l + (label[l] == '.');
    }
    buf[o++] = 0;
    buf[o++] = (unsigned char)(type >> 8);
    buf[o++] = (unsigned char)type;
    buf[o++] = 0;
    buf[o++] = 1; /* IN */
    return o;
}

static int dns_start(void *srv, int type, unsigned char *query, unsigned char *buf, size_t buflen, void **qh)
{
    reply_t *r = pm_calloc(1, sizeof *r);
    pm_dns_query_t q = {.name = (const char *)query, .rrtype = type};
    pm_dns_resolve(&q, 1, ms_left());
    r->status = DKIM_DNS_SUCCESS;
    if (q.status == PM_DNS_OK && q.result->answer_packet) {
        r->len = (size_t)q.result->answer_len < buflen ? (size_t)q.result->answer_len : buflen;
        memcpy(buf, q.result->answer_packet, r->len);
    } else if (q.status == PM_DNS_NOTFOUND) {
        r->len = empty_reply((const char *)query, type, q.rcode, buf, buflen);
        if (r->len == 0)
            r->status = DKIM_DNS_ERROR;
    } else {
        r->status = q.status == PM_DNS_TIMEOUT ? DKIM_DNS_EXPIRED : DKIM_DNS_ERROR;
    }
    pm_dns_query_clear(&q, 1);
    *qh = r;
    return 0;
}

static int dns_waitreply(void *srv, void *qh, struct timeval *timeout, size_t *bytes, int *error, int *dnssec)
{
    reply_t *r = qh;
    if (bytes)
        *bytes = r->len;
    if (error)
        *error = 0;
    if (dnssec)
        *dnssec = DKIM_DNSSEC_UNKNOWN;
    return r->status;
}

static int dns_cancel(void *srv, void *qh)
{
    free(qh);
    return 0;
}

int pm_dkim_start(char *err, size_t errlen)
{
    if (lib)
        return 0;
    lib = dkim_init(NULL, NULL);
    if (lib == NULL) {
        snprintf(err, errlen, "dkim: cannot initialise libopendkim");
        return -1;
    }
    /* Keep signatures with syntax errors (reported as permerror, not dropped);
     * accept bare LF line ends as CRLF (Sendmail's folded headers). */
    unsigned flags = DKIM_LIBFLAGS_BADSIGHANDLES | DKIM_LIBFLAGS_FIXCRLF;
    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags);
    dkim_dns_set_query_service(lib, &dns_service);
    dkim_dns_set_query_start(lib, dns_start);
    dkim_dns_set_query_waitreply(lib, dns_waitreply);
    dkim_dns_set_query_cancel(lib, dns_cancel);
    dkim_dns_set_init(lib, NULL);
    dkim_dns_set_close(lib, NULL);
    return 0;
}

void pm_dkim_stop(void)
{
    if (lib)
        dkim_close(lib);
    lib = NULL;
}

/* "Name: value" with every line ending CRLF, as libopendkim wants it. */
static int feed_header(DKIM *d, const pm_dkim_header_t *h)
{
    size_t vlen = strlen(h->value), nlen = strlen(h->name);
    char *line = pm_malloc(nlen + 2 + 2 * vlen + 1);
    size_t o = 0;
    memcpy(line, h->name, nlen);
    o = nlen;
    line[o++] = ':';
    line[o++] = ' ';
    for (size_t i = 0; i < vlen; i++) {
        if (h->value[i] == '\n' && (i == 0 || h->value[i - 1] != '\r'))
            line[o++] = '\r';
        line[o++] = h->value[i];
    }
    DKIM_STAT st = dkim_header(d, (unsigned char *)line, o);
    free(line);
    return st;
}

/* Headers, end of headers, body, end of message. The status of dkim_eom, or
 * DKIM_STAT_NOSIG when the message has no signature. */
static DKIM_STAT feed_message(DKIM *d, const pm_dkim_header_t *headers, size_t n, const pm_dkim_body_t *body)
{
    for (size_t i = 0; i < n; i++)
        feed_header(d, &headers[i]); /* a header libopendkim refuses is left out, as by the MTA's view it is */
    DKIM_STAT st = dkim_eoh(d);
    if (st == DKIM_STAT_NOSIG)
        return st;
    if (body->len)
        dkim_body(d, (unsigned char *)body->data, body->len);
    return dkim_eom(d, NULL);
}

static const char *algorithm_name(DKIM_SIGINFO *sig)
{
    dkim_alg_t alg = DKIM_SIGN_UNKNOWN;
    dkim_sig_getsignalg(sig, &alg);
    return alg == DKIM_SIGN_RSASHA256 ? "rsa-sha256" : alg == DKIM_SIGN_ED25519SHA256 ? "ed25519-sha256"
                                                   : alg == DKIM_SIGN_RSASHA1      ? "rsa-sha1"
                                                                                  : "";
}

/* RFC 8601 result of one signature from libopendkim's error code. */
static const char *result_of(int sigerr)
{
    switch (sigerr) {
    case DKIM_SIGERROR_KEYFAIL: /* the key query failed or timed out: try again later */
        return "temperror";
    case DKIM_SIGERROR_BADSIG:
        return "fail";
    case DKIM_SIGERROR_KEYTOOSMALL:
        return "policy";
    case DKIM_SIGERROR_OK:
        return "neutral"; /* not processed */
    default: /* no key, a bad key or signature syntax, expired: retrying cannot help */
        return "permerror";
    }
}

static void describe(DKIM *d, DKIM_SIGINFO *sig, const pm_dkim_body_t *body, pm_dkim_sig_t *out)
{
    const unsigned char *v;
    snprintf(out->domain, sizeof out->domain, "%s", (v = dkim_sig_getdomain(sig)) ? (const char *)v : "");
    snprintf(out->selector, sizeof out->selector, "%s", (v = dkim_sig_getselector(sig)) ? (const char *)v : "");
    if (dkim_sig_getidentity(d, sig, (unsigned char *)out->identity, sizeof out->identity) != DKIM_STAT_OK)
        snprintf(out->identity, sizeof out->identity, "@%.254s", out->domain);
    snprintf(out->algorithm, sizeof out->algorithm, "%s", algorithm_name(sig));
    v = dkim_sig_gettagvalue(sig, 0, (unsigned char *)"b");
    snprintf(out->b, sizeof out->b, "%.8s", v ? (const char *)v : "");
    ssize_t msglen = 0, canonlen = 0, signlen = -1;
    dkim_sig_getcanonlen(d, sig, &msglen, &canonlen, &signlen);
    out->body_length = signlen >= 0 ? (long)signlen : -1;

    int sigerr = dkim_sig_geterror(sig);
    unsigned flags = dkim_sig_getflags(sig);
    int bh = dkim_sig_getbh(sig);
    if ((flags & DKIM_SIGFLAG_PASSED) && bh == DKIM_SIGBH_MATCH && strcmp(out->algorithm, "rsa-sha1") == 0) {
        out->result = "policy"; /* RFC 8301: verifiers must not accept rsa-sha1 */
        snprintf(out->reason, sizeof out->reason, "rsa-sha1 is not accepted (RFC 8301)");
    } else if ((flags & DKIM_SIGFLAG_PASSED) && bh == DKIM_SIGBH_MATCH) {
        out->result = "pass";
    } else if ((sigerr == DKIM_SIGERROR_OK || sigerr == DKIM_SIGERROR_BADSIG) && bh == DKIM_SIGBH_MISMATCH) {
        out->result = "fail";
        snprintf(out->reason, sizeof out->reason, "body hash did not verify");
    } else {
        out->result = result_of(sigerr);
        const char *why = dkim_sig_geterrorstr(sigerr);
        snprintf(out->reason, sizeof out->reason, "%s", why && sigerr != DKIM_SIGERROR_OK ? why : "not verified");
    }
    /* A body cut at max_body_size cannot show a signature false. */
    if (body->truncated && strcmp(out->result, "pass") != 0) {
        out->result = "neutral";
        snprintf(out->reason, sizeof out->reason, "body longer than max_body_size: not verified");
    }
}

int pm_dkim_verify(const pm_dkim_header_t *headers, size_t n_headers, const pm_dkim_body_t *body, int timeout_ms,
                   pm_dkim_sig_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (lib == NULL) {
        snprintf(err, errlen, "dkim: not started");
        return -1;
    }
    DKIM_STAT st;
    DKIM *d = dkim_verify(lib, (const unsigned char *)"pmilter", NULL, &st);
    if (d == NULL) {
        snprintf(err, errlen, "dkim: cannot make a verifying handle: %s", dkim_getresultstr(st));
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    int n = 0;
    if (feed_message(d, headers, n_headers, body) != DKIM_STAT_NOSIG) {
        DKIM_SIGINFO **sigs = NULL;
        int nsigs = 0;
        if (dkim_getsiglist(d, &sigs, &nsigs) == DKIM_STAT_OK && nsigs > 0) {
            *out = pm_calloc((size_t)nsigs, sizeof **out);
            for (int i = 0; i < nsigs; i++)
                describe(d, sigs[i], body, &(*out)[n++]);
        }
    }
    dkim_free(d);
    return n;
}

const char *pm_dkim_key_algorithm(const char *pem, size_t len, char *err, size_t errlen)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    const char *alg = NULL;
    if (key && EVP_PKEY_base_id(key) == EVP_PKEY_RSA)
        alg = "rsa-sha256";
    else if (key && EVP_PKEY_base_id(key) == EVP_PKEY_ED25519)
        alg = "ed25519-sha256";
    else
        snprintf(err, errlen, "%s", key ? "not an RSA or Ed25519 key" : "not a PEM private key");
    EVP_PKEY_free(key);
    BIO_free(bio);
    return alg;
}

char *pm_dkim_sign(const pm_dkim_header_t *headers, size_t n_headers, const pm_dkim_body_t *body,
                   const pm_dkim_sign_request_t *req, char *err, size_t errlen)
{
    const char *alg = pm_dkim_key_algorithm(req->key_pem, req->key_len, err, errlen);
    if (alg == NULL)
        return NULL;
    if (lib == NULL) {
        snprintf(err, errlen, "dkim: not started");
        return NULL;
    }
    /* libopendkim reads the key as a C string. */
    char *key = pm_strndup(req->key_pem, req->key_len);
    DKIM_STAT st;
    DKIM *d = dkim_sign(lib, (const unsigned char *)"pmilter", NULL, (dkim_sigkey_t)key,
                        (const unsigned char *)req->selector, (const unsigned char *)req->domain,
                        req->simple_headers ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED,
                        req->simple_body ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED,
                        strcmp(alg, "rsa-sha256") == 0 ? DKIM_SIGN_RSASHA256 : DKIM_SIGN_ED25519SHA256, -1, &st);
    char *value = NULL;
    if (d == NULL) {
        snprintf(err, errlen, "cannot sign: %s", dkim_getresultstr(st));
    } else if ((st = feed_message(d, headers, n_headers, body)) != DKIM_STAT_OK) {
        const char *why = dkim_geterror(d);
        snprintf(err, errlen, "cannot sign: %s", why && *why ? why : dkim_getresultstr(st));
    } else {
        unsigned char *hdr = NULL;
        size_t len = 0;
        st = dkim_getsighdr_d(d, strlen(DKIM_SIGNHEADER) + 2, &hdr, &len);
        if (st == DKIM_STAT_OK && hdr)
            value = pm_strndup((const char *)hdr, len);
        else
            snprintf(err, errlen, "cannot sign: %s", dkim_getresultstr(st));
    }
    if (d)
        dkim_free(d);
    free(key);
    return value;
}
