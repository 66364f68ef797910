/* milter: libmilter callbacks -> handler runs -> verdicts.
 *
 * Threads: libmilter calls these from its worker pool; a session may move
 * between workers from one callback to the next, so all per-connection state
 * is in the pm_session_t attached with smfi_setpriv. The runtime below is set
 * once before smfi_main and only read afterwards.
 *
 * Diagnostics: a handler exception is logged with file:line, phase and
 * session, and the callback returns the configured handler_error verdict. */
#include "milter/milter.h"

#include <assert.h>
#include <arpa/inet.h>
#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "metrics/metrics.h"
#include "milter/actions.h"
#include "milter/milter_accept.h"
#include "milter/milter_input.h"
#include "milter/mta_read.h"
#include "milter/session.h"
#include "ruby/runner.h"
#include "ruby/runtime.h"
#include "ruby/watchdog.h"

static atomic_int in_flight;     /* callbacks running now; shutdown waits for 0 */
static atomic_int open_messages; /* sessions between MAIL FROM and end of message */
static atomic_int live_sessions; /* sessions that exist now, against max_sessions */
static atomic_int draining;      /* stopping: new sessions and messages get tempfail */
static int fd_session_cap = 1 << 30; /* sessions the open-file limit leaves room for (fit_fd_limit) */

/* Descriptors kept back from sessions: listener, log, libmilter's pipes,
 * handler files and sockets. */
#define FDS_BESIDES_SESSIONS 32

/* What was negotiated on each MTA connection, by fd, and the generation whose
 * handlers it was negotiated for. A session normally starts at negotiation;
 * after QUIT_NC the MTA reuses the connection for a new session without
 * negotiating again, so that session must run the same generation: a newer
 * one (after a reload) could need phases or replies the MTA was told it will
 * not get, and a reject would go out as "no reply". The entry holds a
 * reference to its generation until the connection ends for good. Only the
 * worker serving the fd (or libmilter's controller closing it) touches it. */
#define NEGOTIATED_FDS 65536
static struct {
    pm_runtime_t *rt; /* NULL: nothing carried over */
    unsigned no_reply;
    unsigned char offers_skip;
} negotiated[NEGOTIATED_FDS];

static int fd_tracked(int fd)
{
    return fd >= 0 && fd < NEGOTIATED_FDS;
}

static void negotiated_forget(int fd)
{
    if (fd_tracked(fd) && negotiated[fd].rt) {
        pm_runtime_release(negotiated[fd].rt);
        negotiated[fd].rt = NULL;
    }
}

static void negotiated_save(const pm_session_t *s)
{
    if (!fd_tracked(s->fd))
        return;
    negotiated_forget(s->fd);
    negotiated[s->fd].rt = pm_runtime_retain(s->rt);
    negotiated[s->fd].no_reply = s->no_reply;
    negotiated[s->fd].offers_skip = (unsigned char)s->mta_offers_skip;
}

/* The generation for a new session on fd: the one negotiated on the
 * connection, else the current one. A reference is taken either way. */
static pm_runtime_t *runtime_for(int fd)
{
    if (fd_tracked(fd) && negotiated[fd].rt)
        return pm_runtime_retain(negotiated[fd].rt);
    return pm_runtime_acquire();
}

static void negotiated_restore(pm_session_t *s)
{
    if (fd_tracked(s->fd) && negotiated[s->fd].rt) {
        s->no_reply = negotiated[s->fd].no_reply;
        s->mta_offers_skip = negotiated[s->fd].offers_skip;
    }
}

/* The session of ctx, made on first use with the connection's configuration
 * generation (runtime_for), which it keeps until close (see runtime.h). */
static pm_session_t *session_of(SMFICTX *ctx)
{
    pm_session_t *s = smfi_getpriv(ctx);
    if (s == NULL) {
        int fd = pm_current_mta_fd();
        pm_runtime_t *rt = runtime_for(fd);
        s = pm_session_new(rt->cfg);
        s->rt = rt;
        s->fd = fd;
        negotiated_restore(s);
        smfi_setpriv(ctx, s);
        int limit = rt->cfg->max_sessions < fd_session_cap ? rt->cfg->max_sessions : fd_session_cap;
        pm_metrics_session_opened();
        if (atomic_fetch_add(&live_sessions, 1) >= limit) {
            pm_metrics_limit_hit("max_sessions");
            s->refused = 1;
            pm_warn("session %lu: max_sessions (%d%s) reached: answering tempfail", s->id, limit,
                    limit < rt->cfg->max_sessions ? ", lowered to fit the open-file limit" : "");
        } else if (atomic_load(&draining)) {
            s->refused = 1;
            pm_info("session %lu: stopping: answering tempfail", s->id);
        }
    }
    return s;
}

/* What Pmilter.status may become on the wire in this phase. */
static sfsistat verdict(int status, pm_phase_t phase, const pm_session_t *s)
{
    switch (status) {
    case SMFIS_REJECT:
    case SMFIS_DISCARD:
    case SMFIS_ACCEPT:
    case SMFIS_TEMPFAIL:
        return status;
    case SMFIS_SKIP:
        /* Only meaningful in the body phase, and only if the MTA can skip. */
        return phase == PM_PHASE_BODY && s->mta_offers_skip ? SMFIS_SKIP : SMFIS_CONTINUE;
    default: /* CONTINUE; NOREPLY and ALL_OPTS were never negotiated */
        return SMFIS_CONTINUE;
    }
}

/* The message is over (eom, abort, close): a stop no longer waits for it. */
static void message_over(pm_session_t *s)
{
    if (s->in_message) {
        s->in_message = 0;
        int was = atomic_fetch_sub(&open_messages, 1);
        assert(was > 0); /* each message is counted once, when it begins */
        (void)was;
    }
}

/* Counts the message's final verdict and its time since MAIL FROM, once. */
static void message_decided(pm_session_t *s, sfsistat verdict)
{
    double seconds = -1;
    if (s->message_start.tv_sec || s->message_start.tv_nsec) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        seconds = (now.tv_sec - s->message_start.tv_sec) + (now.tv_nsec - s->message_start.tv_nsec) / 1e9;
        s->message_start = (struct timespec){0, 0};
    }
    pm_metrics_message(verdict, seconds);
}

/* "session 12" or "session 12, queue 4XyZ1" (macro i, once the MTA has one), for log lines. */
static const char *session_label(SMFICTX *ctx, const pm_session_t *s, char *buf, size_t len)
{
    const char *queue_id = smfi_getsymval(ctx, "i");
    if (queue_id && *queue_id)
        snprintf(buf, len, "session %lu, queue %s", s->id, queue_id);
    else
        snprintf(buf, len, "session %lu", s->id);
    return buf;
}

/* Does this verdict end the message for the milter? A refused recipient
 * does not; anything else that is not continue does. */
static int ends_message(sfsistat verdict, pm_phase_t phase)
{
    if (verdict == SMFIS_CONTINUE || verdict == SMFIS_NOREPLY || verdict == SMFIS_SKIP)
        return 0;
    return !(phase == PM_PHASE_ENVRCPT && (verdict == SMFIS_REJECT || verdict == SMFIS_TEMPFAIL));
}

/* A reply text applies to a reject or tempfail of its own class (4xx/5xx).
 * Returns the reply code sent, or NULL if the MTA's default text is used. */
static const char *apply_reply(SMFICTX *ctx, const pm_session_t *s, pm_call_t *call, sfsistat verdict)
{
    if (call->reply.rcode[0] == '\0')
        return NULL;
    int wanted = verdict == SMFIS_REJECT ? '5' : verdict == SMFIS_TEMPFAIL ? '4' : 0;
    if (wanted == 0)
        return NULL; /* continue/accept/discard: the MTA shows no reply text */
    if (call->reply.rcode[0] != wanted) {
        pm_warn("session %lu: reply %s does not match the %s verdict; the MTA's default text is used", s->id,
                call->reply.rcode, pm_config_verdict_name(verdict));
        return NULL;
    }
    char err[256];
    if (pm_action_set_reply(ctx, call->reply.rcode, call->reply.xcode, call->reply.lines, err, sizeof err)) {
        pm_warn("session %lu: %s", s->id, err);
        return NULL;
    }
    return call->reply.rcode;
}

#define LOGGED_RCPTS 5 /* recipients named in the per-message line; rcpt_count has them all */

/* The per-message log line (docs/logging.md lists its keys): at eom, or when
 * an earlier phase's verdict ended the message. */
static void log_message(SMFICTX *ctx, const pm_session_t *s, sfsistat verdict)
{
    if (!pm_log_enabled(PM_LOG_INFO))
        return;
    const char *queue_id = smfi_getsymval(ctx, "i");
    const char *rcpts[LOGGED_RCPTS];
    size_t n_shown = s->n_rcpts < LOGGED_RCPTS ? s->n_rcpts : LOGGED_RCPTS;
    for (size_t i = 0; i < n_shown; i++)
        rcpts[i] = s->rcpts[i].addr;
    const char *phase = pm_phase_name(s->decided_phase >= 0 ? (pm_phase_t)s->decided_phase : PM_PHASE_EOM);
    long long dns_us = (long long)(s->dns_ms * 1000);
    const pm_runtime_t *rt = s->rt;
    /* RCPT TO reaches pmilter only when negotiated (log_envelope, or a handler reads it). */
    int rcpts_known = s->n_rcpts > 0 || rt->cfg->log_envelope || pm_runner_has_handler(rt, PM_PHASE_ENVRCPT) ||
                      (rt->cfg->mruby_handler && (rt->scripts->facts_needed & (1u << PM_PHASE_ENVRCPT)));
    /* A field typed PM_LOG_STR without a string is left out: the facts not known here. */
    pm_log_field_t f[] = {
        {"event", PM_LOG_STR, .str = "message"},
        {"session", PM_LOG_INT, .num = (long long)s->id},
        {"queue_id", PM_LOG_STR, .str = queue_id && *queue_id ? queue_id : NULL},
        {"client_ip", PM_LOG_STR, .str = s->client_addr},
        {"client_name", PM_LOG_STR, .str = s->client_host},
        {"helo", PM_LOG_STR, .str = s->helo},
        {"from", PM_LOG_STR, .str = s->envfrom},
        {"rcpt_count", rcpts_known ? PM_LOG_INT : PM_LOG_STR, .num = (long long)s->n_rcpts},
        {"rcpts", rcpts_known ? PM_LOG_LIST : PM_LOG_STR, .list = rcpts, .n_list = n_shown},
        {"verdict", PM_LOG_STR, .str = pm_config_verdict_name(verdict)},
        {"phase", PM_LOG_STR, .str = phase},
        {"reply_code", PM_LOG_STR, .str = s->reply_code[0] ? s->reply_code : NULL},
        {"handler_us", PM_LOG_INT, .num = s->handler_us},
        {"dns_us", dns_us > 0 ? PM_LOG_INT : PM_LOG_STR, .num = dns_us},
        {"kv_us", s->kv_us > 0 ? PM_LOG_INT : PM_LOG_STR, .num = s->kv_us},
    };
    /* The prose part is the line pmilter always wrote; the fields follow it. */
    char rcpt_text[64] = "", dns[48] = "", label[128];
    if (s->n_rcpts)
        snprintf(rcpt_text, sizeof rcpt_text, " to %zu recipient(s)", s->n_rcpts);
    if (s->dns_ms > 0)
        snprintf(dns, sizeof dns, " (dns %.0f ms)", s->dns_ms);
    pm_log_fields(PM_LOG_INFO, f, sizeof f / sizeof f[0], "%s: message from %s%s: %s%s",
                  session_label(ctx, s, label, sizeof label), s->envfrom ? s->envfrom : "-", rcpt_text,
                  pm_config_verdict_name(verdict), dns);
}

/* The verdict for a handler that raised: [kv] on_error for an uncaught
 * Pmilter::KV::Error (the store is down), handler_error otherwise. By the
 * class, not the text: a raise inside a method ends the text with its callers. */
static sfsistat failure_verdict(const pm_config_t *cfg, const pm_call_t *call)
{
    int kv_failed = strcmp(call->error_class, "Pmilter::KV::Error") == 0;
    return kv_failed && cfg->kv_on_error >= 0 ? cfg->kv_on_error : cfg->handler_error;
}

/* Runs phase's handler for the session behind ctx. */
static sfsistat run(SMFICTX *ctx, pm_phase_t phase, pm_call_t *call)
{
    pm_session_t *s = session_of(ctx);
    pm_runtime_t *rt = s->rt;
    if (phase >= PM_PHASE_ENVRCPT && phase <= PM_PHASE_EOM && s->receive_time == 0)
        s->receive_time = time(NULL);
    sfsistat refusal = s->no_reply & (1u << phase) ? SMFIS_NOREPLY : SMFIS_TEMPFAIL;
    if (s->refused)
        return phase == PM_PHASE_CLOSE ? SMFIS_CONTINUE : refusal;
    if (phase >= PM_PHASE_ENVFROM && phase < PM_PHASE_EOM && !s->in_message && !s->message_refused) {
        if (atomic_load(&draining))
            s->message_refused = 1; /* no new message once a stop began */
        else {
            s->in_message = 1; /* a stop waits for this message to end */
            atomic_fetch_add(&open_messages, 1);
        }
    }
    /* A refused message answers tempfail at the first phase that has a reply
     * (eom at the latest). */
    if (s->message_refused && phase >= PM_PHASE_ENVFROM && phase <= PM_PHASE_EOM)
        return refusal;
    if (!pm_runner_has_handler(rt, phase))
        return s->no_reply & (1u << phase) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
    atomic_fetch_add(&in_flight, 1);
    call->cfg = rt->cfg;
    call->phase = phase;
    call->session = s;
    call->ctx = ctx;
    call->status = SMFIS_CONTINUE;
    char err[1024];
    sfsistat result;
    if (pm_runner_run(rt, call, err, sizeof err) != 0) {
        char label[128];
        result = failure_verdict(rt->cfg, call);
        pm_metrics_handler_error(phase, call->error_class);
        pm_error("%s (phase %s, %s; answering %s)", err, pm_phase_name(phase),
                 session_label(ctx, s, label, sizeof label), pm_config_verdict_name(result));
    } else {
        result = verdict(call->status, phase, s);
        const char *rcode = apply_reply(ctx, s, call, result);
        if (ends_message(result, phase))
            snprintf(s->reply_code, sizeof s->reply_code, "%s", rcode ? rcode : "");
        if (result == SMFIS_REJECT || result == SMFIS_TEMPFAIL || result == SMFIS_DISCARD) {
            char label[128];
            pm_notice("%s: %s handler answered %s (from %s%s%s)", session_label(ctx, s, label, sizeof label),
                      pm_phase_name(phase), pm_config_verdict_name(result), s->envfrom ? s->envfrom : "-",
                      phase == PM_PHASE_ENVRCPT ? ", rcpt " : "",
                      phase == PM_PHASE_ENVRCPT && s->last_rcpt.addr ? s->last_rcpt.addr : "");
        }
    }
    pm_metrics_verdict(phase, result);
    if (ends_message(result, phase))
        s->decided_phase = phase;
    if (ends_message(result, phase) && phase >= PM_PHASE_ENVFROM && phase < PM_PHASE_EOM) {
        message_decided(s, result); /* decided early; eom counts and logs the rest */
        log_message(ctx, s, result);
    }
    if (ends_message(result, phase))
        message_over(s); /* the MTA sends no more of this message */
    pm_reply_clear(&call->reply);
    pm_call_clear_edits(call);
    int was = atomic_fetch_sub(&in_flight, 1);
    assert(was > 0);
    (void)was;
    return result;
}

/* Logs the first limit a message hits, once per message. */
static void limit_reached(pm_session_t *s, const char *limit, long value, const char *what)
{
    if (s->limit_logged)
        return;
    s->limit_logged = 1;
    pm_metrics_limit_hit(limit);
    pm_warn("session %lu: %s (%ld) reached: %s", s->id, limit, value, what);
}

/* Per phase: the flag that switches it off, and the one that lets the MTA
 * send it without waiting for a reply. */
static const struct {
    pm_phase_t phase;
    unsigned long off, no_reply;
} negotiable[] = {
    {PM_PHASE_CONNECT, SMFIP_NOCONNECT, SMFIP_NR_CONN}, {PM_PHASE_HELO, SMFIP_NOHELO, SMFIP_NR_HELO},
    {PM_PHASE_ENVFROM, SMFIP_NOMAIL, SMFIP_NR_MAIL},    {PM_PHASE_ENVRCPT, SMFIP_NORCPT, SMFIP_NR_RCPT},
    {PM_PHASE_DATA, SMFIP_NODATA, SMFIP_NR_DATA},       {PM_PHASE_HEADER, SMFIP_NOHDRS, SMFIP_NR_HDR},
    {PM_PHASE_EOH, SMFIP_NOEOH, SMFIP_NR_EOH},          {PM_PHASE_BODY, SMFIP_NOBODY, SMFIP_NR_BODY},
    {PM_PHASE_UNKNOWN, SMFIP_NOUNKNOWN, SMFIP_NR_UNKN},
};

/* A phase with a handler is negotiated as usual. A phase without one is
 * switched off, unless a handler reads a fact only that phase carries: then
 * the MTA sends it without waiting for a reply (SMFIP_NR_*), or with a
 * normal reply if it cannot do that. */
static sfsistat on_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2, unsigned long f3,
                             unsigned long *pf0, unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    negotiated_forget(pm_current_mta_fd()); /* a new connection: the current generation */
    pm_session_t *s = session_of(ctx);
    const pm_runtime_t *rt = s->rt;
    unsigned facts = rt->cfg->mruby_handler ? rt->scripts->facts_needed : 0;
    /* log_envelope: the per-message log line names the client, HELO and
     * recipients, so the MTA sends them (without waiting for a reply where it can). */
    if (rt->cfg->log_envelope)
        facts |= 1u << PM_PHASE_CONNECT | 1u << PM_PHASE_HELO | 1u << PM_PHASE_ENVRCPT;
    unsigned long protocol = 0;
    s->no_reply = 0;
    for (size_t i = 0; i < sizeof negotiable / sizeof negotiable[0]; i++) {
        pm_phase_t phase = negotiable[i].phase;
        if (pm_runner_has_handler(rt, phase) || (s->refused && phase == PM_PHASE_CONNECT))
            continue; /* a refused session answers tempfail at connect */
        /* MAIL FROM is always received (without a reply when the MTA can):
         * it marks the start of each message, which a stop waits for. */
        if (!(facts & (1u << phase)) && phase != PM_PHASE_ENVFROM) {
            protocol |= negotiable[i].off & f1;
        } else if (f1 & negotiable[i].no_reply) {
            protocol |= negotiable[i].no_reply;
            s->no_reply |= 1u << phase;
        }
    }
    if (pm_runner_has_handler(rt, PM_PHASE_BODY))
        protocol |= SMFIP_SKIP & f1;
    s->mta_offers_skip = (f1 & SMFIP_SKIP) != 0;
    negotiated_save(s);
    pm_debug("session %lu: MTA offers actions 0x%lx, protocol 0x%lx; asking 0x%lx", s->id, f0, f1, protocol);
    *pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT | SMFIF_ADDRCPT_PAR | SMFIF_DELRCPT |
                 SMFIF_QUARANTINE | SMFIF_CHGFROM | SMFIF_SETSYMLIST);
    *pf1 = protocol;
    /* [server] macros.<stage>: ask the MTA for these macros (SMFIM_* order differs from ours). */
    static const int smfim[PM_MACRO_STAGE_COUNT] = {SMFIM_CONNECT, SMFIM_HELO, SMFIM_ENVFROM, SMFIM_ENVRCPT,
                                                    SMFIM_DATA,    SMFIM_EOH,  SMFIM_EOM};
    for (int i = 0; i < PM_MACRO_STAGE_COUNT; i++)
        if (rt->cfg->macros[i] && (f0 & SMFIF_SETSYMLIST) &&
            smfi_setsymlist(ctx, smfim[i], rt->cfg->macros[i]) != MI_SUCCESS)
            pm_warn("session %lu: could not request macros.%s", s->id, pm_macro_stage_names[i]);
    *pf2 = 0;
    *pf3 = 0;
    return SMFIS_CONTINUE;
}

static char *address_string(const struct sockaddr *sa, char *buf, size_t len, int *port)
{
    *port = 0;
    if (sa == NULL)
        return NULL;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        *port = ntohs(in->sin_port);
        return (char *)inet_ntop(AF_INET, &in->sin_addr, buf, (socklen_t)len);
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        *port = ntohs(in6->sin6_port);
        return (char *)inet_ntop(AF_INET6, &in6->sin6_addr, buf, (socklen_t)len);
    }
    return NULL; /* AF_UNIX or unknown: no IP address */
}

static sfsistat on_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
    pm_session_t *s = session_of(ctx);
    char buf[INET6_ADDRSTRLEN];
    pm_session_set(&s->client_addr, address_string(hostaddr, buf, sizeof buf, &s->client_port));
    pm_session_set(&s->client_host, hostname);
    s->client_family = hostaddr ? hostaddr->sa_family : AF_UNSPEC;
    pm_call_t call = {0};
    return run(ctx, PM_PHASE_CONNECT, &call);
}

static sfsistat on_helo(SMFICTX *ctx, char *helo)
{
    pm_session_t *s = session_of(ctx);
    pm_session_set(&s->helo, helo);
    pm_call_t call = {0};
    return run(ctx, PM_PHASE_HELO, &call);
}

static sfsistat on_envfrom(SMFICTX *ctx, char **argv)
{
    pm_session_t *s = session_of(ctx);
    pm_session_end_message(s); /* a new MAIL FROM starts a new message */
    pm_session_set(&s->envfrom, argv && argv[0] ? argv[0] : NULL);
    s->envfrom_args = pm_argv_dup(argv && argv[0] ? argv + 1 : NULL);
    s->receive_time = time(NULL);
    clock_gettime(CLOCK_MONOTONIC, &s->message_start);
    pm_call_t call = {0};
    return run(ctx, PM_PHASE_ENVFROM, &call);
}

static sfsistat on_envrcpt(SMFICTX *ctx, char **argv)
{
    pm_session_t *s = session_of(ctx);
    pm_session_set(&s->last_rcpt.addr, argv && argv[0] ? argv[0] : NULL);
    pm_argv_free(s->last_rcpt.args);
    s->last_rcpt.args = pm_argv_dup(argv && argv[0] ? argv + 1 : NULL);
    pm_call_t call = {0};
    sfsistat r = run(ctx, PM_PHASE_ENVRCPT, &call);
    if (r != SMFIS_CONTINUE && r != SMFIS_NOREPLY && r != SMFIS_ACCEPT)
        return r; /* refused: not a recipient of the message */
    if (s->n_rcpts >= (size_t)s->rt->cfg->max_recipients) {
        limit_reached(s, "max_recipients", s->rt->cfg->max_recipients, "further recipients are not kept for envelope_to_all");
        return r;
    }
    s->rcpts = pm_realloc(s->rcpts, (s->n_rcpts + 1) * sizeof *s->rcpts);
    s->rcpts[s->n_rcpts].addr = pm_strdup(s->last_rcpt.addr ? s->last_rcpt.addr : "");
    s->rcpts[s->n_rcpts].args = pm_argv_dup(s->last_rcpt.args);
    s->n_rcpts++;
    return r;
}

static sfsistat on_data(SMFICTX *ctx)
{
    pm_call_t call = {0};
    return run(ctx, PM_PHASE_DATA, &call);
}

/* What a limit means for the message, for the log line. */
static const char *limit_effect(const char *limit)
{
    if (strcmp(limit, "max_body_size") == 0)
        return "the rest of the body is not kept for Session#body";
    if (strcmp(limit, "max_input_memory") == 0)
        return "what all sessions keep is at its bound: the rest of this message's headers and body is not kept "
               "for Session#headers and Session#body";
    return "further headers are not kept for Session#headers";
}

static long limit_value(const pm_config_t *cfg, const char *limit)
{
    if (strcmp(limit, "max_headers") == 0)
        return cfg->max_headers;
    if (strcmp(limit, "max_header_bytes") == 0)
        return cfg->max_header_bytes;
    if (strcmp(limit, "max_body_size") == 0)
        return cfg->max_body_size;
    return cfg->max_input_memory; /* MiB */
}

static void keep_limited(pm_session_t *s, const char *limit)
{
    if (limit)
        limit_reached(s, limit, limit_value(s->rt->cfg, limit), limit_effect(limit));
}

static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
    pm_session_t *s = session_of(ctx);
    s->message_size += strlen(name) + strlen(value) + 4; /* "Name: value\r\n" */
    keep_limited(s, pm_session_keep_header(s, s->rt->cfg, name, value));
    pm_call_t call = {.header_name = name, .header_value = value};
    return run(ctx, PM_PHASE_HEADER, &call);
}

static sfsistat on_eoh(SMFICTX *ctx)
{
    pm_call_t call = {0};
    return run(ctx, PM_PHASE_EOH, &call);
}

static sfsistat on_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    pm_session_t *s = session_of(ctx);
    s->message_size += len;
    if (s->rt->scripts->keeps_body)
        keep_limited(s, pm_session_keep_body(s, s->rt->cfg, chunk, len));
    pm_call_t call = {.body_chunk = chunk, .body_len = len};
    return run(ctx, PM_PHASE_BODY, &call);
}

static sfsistat on_eom(SMFICTX *ctx)
{
    pm_call_t call = {0};
    sfsistat r = run(ctx, PM_PHASE_EOM, &call);
    pm_session_t *s = session_of(ctx);
    message_decided(s, r);
    log_message(ctx, s, r); /* only what was received: phases nobody reads are not sent by the MTA */
    pm_session_end_message(s);
    message_over(s);
    return r;
}

static sfsistat on_abort(SMFICTX *ctx)
{
    pm_call_t call = {0};
    sfsistat r = run(ctx, PM_PHASE_ABORT, &call);
    pm_session_end_message(session_of(ctx));
    message_over(session_of(ctx));
    return r;
}

static sfsistat on_unknown(SMFICTX *ctx, const char *cmd)
{
    pm_call_t call = {.unknown_cmd = cmd};
    return run(ctx, PM_PHASE_UNKNOWN, &call);
}

static sfsistat on_close(SMFICTX *ctx)
{
    /* A probe that connects and quits before negotiating has no session. */
    pm_session_t *s = smfi_getpriv(ctx);
    if (s == NULL)
        return SMFIS_CONTINUE;
    /* libmilter's pool controller closes sessions idle past `timeout` while
     * holding its task lock: no handler may run there (a slow one would stall
     * every worker, and the watchdog could not reach it). */
    if (pm_current_mta_fd() == s->fd) {
        pm_call_t call = {0};
        run(ctx, PM_PHASE_CLOSE, &call);
    }
    /* QUIT_NC: the connection carries on with a new session and what was
     * negotiated on it; anything else ends it. */
    if (!(pm_current_mta_fd() == s->fd && pm_current_mta_command() == SMFIC_QUIT_NC))
        negotiated_forget(s->fd);
    pm_runtime_t *rt = s->rt;
    message_over(s);
    pm_session_free(s);
    pm_metrics_session_closed();
    int was = atomic_fetch_sub(&live_sessions, 1);
    assert(was > 0); /* one decrement per session, at close */
    (void)was;
    smfi_setpriv(ctx, NULL);
    pm_runtime_release(rt);
    return SMFIS_CONTINUE;
}

/* Messages a stop still waits for: a handler the watchdog gave up on inside
 * a message holds that message open for ever; one stuck outside any message
 * holds none. */
static int messages_to_wait_for(void)
{
    return atomic_load(&open_messages) - pm_watchdog_stuck_in_messages();
}

void pm_milter_drain(int grace_seconds)
{
    atomic_store(&draining, 1);
    if (messages_to_wait_for() > 0)
        pm_notice("waiting up to %d s for %d message(s) in progress", grace_seconds, messages_to_wait_for());
    for (int waited = 0; (atomic_load(&in_flight) > pm_watchdog_stuck() || messages_to_wait_for() > 0) &&
                         waited < grace_seconds * 100;
         waited++)
        usleep(10000);
    if (messages_to_wait_for() > 0)
        pm_warn("stopping with %d message(s) unfinished after %d s; their MTAs will retry them",
                messages_to_wait_for(), grace_seconds);
}

/* One descriptor per MTA connection: raise the soft open-file limit towards
 * what max_sessions needs (up to the hard limit), else serve fewer sessions
 * and say so. */
static void fit_fd_limit(int max_sessions)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t want = (rlim_t)max_sessions + FDS_BESIDES_SESSIONS;
    if (rl.rlim_cur < want) {
        rlim_t old = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
        if (rl.rlim_cur > old && setrlimit(RLIMIT_NOFILE, &rl) == 0)
            pm_info("raised the open-file limit from %llu to %llu for max_sessions (%d)", (unsigned long long)old,
                    (unsigned long long)rl.rlim_cur, max_sessions);
        else
            rl.rlim_cur = old;
    }
    if (rl.rlim_cur < want) {
        long cap = (long)rl.rlim_cur - FDS_BESIDES_SESSIONS;
        fd_session_cap = cap > 1 ? (int)cap : 1;
        pm_warn("the open-file limit (%llu, hard %llu) leaves room for %d sessions, not max_sessions (%d): beyond "
                "that, new sessions get tempfail; raise LimitNOFILE= (systemd) or ulimit -n",
                (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max, fd_session_cap, max_sessions);
    }
}

int pm_milter_prepare(const pm_config_t *cfg, int listen_fd)
{
    fit_fd_limit(cfg->max_sessions);
    pm_accept_guard(listen_fd);
    pm_mta_read_init();
    struct smfiDesc desc = {
        .xxfi_name = cfg->name,
        .xxfi_version = SMFI_VERSION,
        .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT | SMFIF_ADDRCPT_PAR |
                      SMFIF_DELRCPT | SMFIF_QUARANTINE | SMFIF_CHGFROM | SMFIF_SETSYMLIST,
        .xxfi_connect = on_connect,
        .xxfi_helo = on_helo,
        .xxfi_envfrom = on_envfrom,
        .xxfi_envrcpt = on_envrcpt,
        .xxfi_header = on_header,
        .xxfi_eoh = on_eoh,
        .xxfi_body = on_body,
        .xxfi_eom = on_eom,
        .xxfi_abort = on_abort,
        .xxfi_close = on_close,
        .xxfi_unknown = on_unknown,
        .xxfi_data = on_data,
        .xxfi_negotiate = on_negotiate,
    };
    char conn[32];
    snprintf(conn, sizeof conn, "fd:%d", listen_fd);
    if (smfi_register(desc) != MI_SUCCESS || smfi_setconn(conn) != MI_SUCCESS ||
        smfi_settimeout(cfg->timeout) != MI_SUCCESS ||
        /* libmilter calls listen() again on the fd, with its own default backlog otherwise. */
        smfi_setbacklog(cfg->listen_backlog) != MI_SUCCESS || (cfg->debug && smfi_setdbg(cfg->debug) != MI_SUCCESS)) {
        pm_error("libmilter refused the configuration (smfi_register/smfi_setconn)");
        return -1;
    }
    pm_watchdog_start(cfg->handler_timeout);
    return 0;
}

int pm_milter_run(void)
{
    int rc = smfi_main();
    /* The signal thread drained open messages (pm_milter_drain) before
     * letting libmilter stop; a callback may still be finishing. */
    for (int waited = 0; atomic_load(&in_flight) > pm_watchdog_stuck() && waited < 500; waited++)
        usleep(10000);
    if (atomic_load(&in_flight) > pm_watchdog_stuck())
        pm_warn("stopping with %d handler(s) still running", atomic_load(&in_flight));
    pm_watchdog_stop();
    return rc == MI_SUCCESS ? 0 : -1;
}
