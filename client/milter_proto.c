/*++
 * milter_proto - MTA side of the milter protocol (version 6)
 *
 * Owns one connection's socket, its input/output buffers and the negotiated
 * options. Packets are queued in c->out and written in one go right before we
 * wait for a reply, so phases without replies (SMFIP_NR_*) and macros cost no
 * extra system calls. Every reply is validated before use: a bad peer ends the
 * session with -1 and a reason in c->err, never a crash.
 * Thread use: one mc_conn_t per thread.
 *--*/
#include "milter_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static const struct {
    const char *name;
    char cmd;
    uint32_t no;    /* SMFIP_NO* */
    uint32_t nr;    /* SMFIP_NR_* */
    int stage;      /* SMFIM_* */
} phases[MC_NPHASES] = {
    [MC_CONNECT] = {"connect", 'C', 0x1, 0x1000, 0},
    [MC_HELO] = {"helo", 'H', 0x2, 0x2000, 1},
    [MC_ENVFROM] = {"envfrom", 'M', 0x4, 0x4000, 2},
    [MC_ENVRCPT] = {"envrcpt", 'R', 0x8, 0x8000, 3},
    [MC_DATA] = {"data", 'T', 0x200, 0x10000, 4},
    [MC_HEADER] = {"header", 'L', 0x20, 0x80, -1},
    [MC_EOH] = {"eoh", 'N', 0x40, 0x40000, 6},
    [MC_BODY] = {"body", 'B', 0x10, 0x80000, -1},
    [MC_EOM] = {"eom", 'E', 0, 0, 5},
};

/* SMFIF_* needed by each action. */
static const uint32_t action_flag[] = {
    [MCA_ADDHEADER] = 0x1, [MCA_INSHEADER] = 0x1, [MCA_CHGHEADER] = 0x10, [MCA_CHGFROM] = 0x40,
    [MCA_ADDRCPT] = 0x4,   [MCA_DELRCPT] = 0x8,   [MCA_REPLBODY] = 0x2,   [MCA_QUARANTINE] = 0x20,
};
static const char *const action_name[] = {
    [MCA_ADDHEADER] = "add header", [MCA_INSHEADER] = "insert header", [MCA_CHGHEADER] = "change header",
    [MCA_CHGFROM] = "change from",  [MCA_ADDRCPT] = "add rcpt",        [MCA_DELRCPT] = "delete rcpt",
    [MCA_REPLBODY] = "replace body", [MCA_QUARANTINE] = "quarantine",
};

const char *mc_phase_name(int phase)
{
    return phase >= 0 && phase < MC_NPHASES ? phases[phase].name : "?";
}

char mc_phase_cmd(int phase)
{
    return phases[phase].cmd;
}

int mc_phase_by_name(const char *name, size_t len)
{
    static const struct {
        const char *alias;
        int phase;
    } aliases[] = {{"mail", MC_ENVFROM}, {"from", MC_ENVFROM}, {"rcpt", MC_ENVRCPT}, {"to", MC_ENVRCPT},
                   {"headers", MC_HEADER}, {"eob", MC_EOM}};
    for (int i = 0; i < MC_NPHASES; i++)
        if (strlen(phases[i].name) == len && strncmp(phases[i].name, name, len) == 0)
            return i;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strlen(aliases[i].alias) == len && strncmp(aliases[i].alias, name, len) == 0)
            return aliases[i].phase;
    return -1;
}

int mc_macro_stage(int phase)
{
    return phases[phase].stage;
}

const char *mc_verdict_name(int v)
{
    static const char *const names[] = {"not_sent", "no_reply", "continue", "accept", "reject", "tempfail", "discard", "skip"};
    return v >= 0 && v <= MCV_SKIP ? names[v] : "?";
}

static int fail(mc_conn_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(mc_conn_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    return -1;
}

void mc_init(mc_conn_t *c, int timeout_ms)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->timeout_ms = timeout_ms;
}

/* Waits until fd is ready for ev; 0 ready, -1 timeout or error (c->err names what). */
static int wait_fd(mc_conn_t *c, short ev, const char *what)
{
    struct pollfd p = {.fd = c->fd, .events = ev};
    for (;;) {
        int n = poll(&p, 1, c->timeout_ms);
        if (n > 0)
            return 0;
        if (n == 0)
            return fail(c, "timeout after %.3g s %s", c->timeout_ms / 1000.0, what);
        if (errno != EINTR)
            return fail(c, "poll: %s", strerror(errno));
    }
}

/* After connect: blocking I/O with SO_RCVTIMEO/SO_SNDTIMEO, so waiting for a reply is one recv()
 * (no poll, no EAGAIN round) while a silent milter still times out. */
static int blocking(mc_conn_t *c)
{
    struct timeval tv = {.tv_sec = c->timeout_ms / 1000, .tv_usec = (c->timeout_ms % 1000) * 1000};
    int fl = fcntl(c->fd, F_GETFL);
    if (fl < 0 || fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK) < 0 || setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0) {
        int e = errno;
        close(c->fd);
        c->fd = -1;
        return fail(c, "socket options: %s", strerror(e));
    }
    return 0;
}

static int connect_addr(mc_conn_t *c, const struct sockaddr *sa, socklen_t salen, const char *spec)
{
    c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (c->fd < 0)
        return fail(c, "socket: %s", strerror(errno));
    if (sa->sa_family != AF_UNIX) {
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (connect(c->fd, sa, salen) == 0)
        return blocking(c);
    if (errno != EINPROGRESS && errno != EAGAIN) {
        int e = errno;
        close(c->fd);
        c->fd = -1;
        return fail(c, "connect %s: %s", spec, strerror(e));
    }
    if (wait_fd(c, POLLOUT, "connecting") < 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    int e = 0;
    socklen_t el = sizeof e;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el);
    if (e) {
        close(c->fd);
        c->fd = -1;
        return fail(c, "connect %s: %s", spec, strerror(e));
    }
    return blocking(c);
}

int mc_open(mc_conn_t *c, const char *spec)
{
    const char *path = NULL;
    int family = 0;
    if (strncmp(spec, "unix:", 5) == 0)
        path = spec + 5;
    else if (strncmp(spec, "local:", 6) == 0)
        path = spec + 6;
    else if (spec[0] == '/')
        path = spec;
    else if (strncmp(spec, "inet:", 5) == 0)
        family = AF_INET;
    else if (strncmp(spec, "inet6:", 6) == 0)
        family = AF_INET6;
    else
        return fail(c, "bad milter address \"%s\": expected unix:/path, local:/path, inet:PORT@HOST or inet6:PORT@HOST", spec);

    if (path) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof sun.sun_path || !*path)
            return fail(c, "bad unix socket path \"%s\"", path);
        strcpy(sun.sun_path, path);
        return connect_addr(c, (struct sockaddr *)&sun, sizeof sun, spec);
    }
    const char *p = strchr(spec, ':') + 1;
    const char *at = strchr(p, '@');
    char port[16], host[256];
    size_t plen = at ? (size_t)(at - p) : strlen(p);
    if (plen == 0 || plen >= sizeof port)
        return fail(c, "bad port in \"%s\"", spec);
    memcpy(port, p, plen);
    port[plen] = 0;
    const char *h = at ? at + 1 : (family == AF_INET6 ? "::1" : "127.0.0.1");
    size_t hlen = strlen(h);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']')
        h++, hlen -= 2;
    if (hlen == 0 || hlen >= sizeof host)
        return fail(c, "bad host in \"%s\"", spec);
    memcpy(host, h, hlen);
    host[hlen] = 0;
    struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_STREAM}, *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc)
        return fail(c, "resolve %s: %s", spec, gai_strerror(rc));
    rc = connect_addr(c, res->ai_addr, res->ai_addrlen, spec);
    freeaddrinfo(res);
    return rc;
}

int mc_flush(mc_conn_t *c)
{
    size_t off = 0;
    while (off < c->out.len) {
        ssize_t n = send(c->fd, c->out.p + off, c->out.len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) { /* SO_SNDTIMEO expired */
            c->out.len = 0;
            return fail(c, "timeout after %.3g s writing to the milter", c->timeout_ms / 1000.0);
        }
        c->out.len = 0;
        return fail(c, "write to milter: %s", n < 0 ? strerror(errno) : "short write");
    }
    c->out.len = 0;
    return 0;
}

/* Reads one packet. *cmd is its command byte, *data and *len its payload, valid until the next read. */
static int read_packet(mc_conn_t *c, char *cmd, const char **data, size_t *len, const char *what)
{
    size_t need = 4;
    for (;;) {
        size_t have = c->in.len - c->in_off;
        if (have >= 4) {
            const unsigned char *h = (const unsigned char *)c->in.p + c->in_off;
            uint32_t n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
            if (n == 0 || n > MC_MAX_FRAME)
                return fail(c, "bad frame from milter %s: length %u", what, (unsigned)n);
            need = 4 + (size_t)n;
            if (have >= need) {
                *cmd = c->in.p[c->in_off + 4];
                *data = c->in.p + c->in_off + 5;
                *len = n - 1;
                c->in_off += need;
                return 0;
            }
        }
        /* Move the partial packet to the front before reading more. */
        if (c->in_off) {
            memmove(c->in.p, c->in.p + c->in_off, have);
            c->in.len = have;
            c->in_off = 0;
        }
        size_t want = need - have > 16384 ? need - have : 16384;
        cbuf_reserve(&c->in, want);
        ssize_t r = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len - 1, 0);
        if (r > 0) {
            c->in.len += (size_t)r;
            continue;
        }
        if (r == 0)
            return fail(c, "milter closed the connection %s", what);
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) /* SO_RCVTIMEO expired */
            return fail(c, "timeout after %.3g s %s", c->timeout_ms / 1000.0, what);
        return fail(c, "read from milter: %s", strerror(errno));
    }
}

static uint32_t get_u32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

/* Takes one NUL-terminated string at *p (before end); NULL if there is none. */
static const char *take_str(const char **p, const char *end)
{
    const char *s = *p;
    if (s >= end)
        return NULL;
    const char *z = memchr(s, 0, (size_t)(end - s));
    if (!z)
        return NULL;
    *p = z + 1;
    return s;
}

size_t mc_begin(mc_conn_t *c, char cmd)
{
    size_t at = c->out.len;
    cbuf_put_u32(&c->out, 0);
    cbuf_putc(&c->out, cmd);
    return at;
}

void mc_end(mc_conn_t *c, size_t at)
{
    uint32_t n = (uint32_t)(c->out.len - at - 4);
    unsigned char *h = (unsigned char *)c->out.p + at;
    h[0] = (unsigned char)(n >> 24), h[1] = (unsigned char)(n >> 16), h[2] = (unsigned char)(n >> 8), h[3] = (unsigned char)n;
}

void mc_queue(mc_conn_t *c, char cmd, const void *data, size_t len)
{
    size_t at = mc_begin(c, cmd);
    cbuf_put(&c->out, data, len);
    mc_end(c, at);
}

int mc_negotiate(mc_conn_t *c, uint32_t actions, uint32_t pflags)
{
    size_t at = mc_begin(c, 'O');
    cbuf_put_u32(&c->out, MC_PROT_VERSION);
    cbuf_put_u32(&c->out, actions);
    cbuf_put_u32(&c->out, pflags);
    mc_end(c, at);
    if (mc_flush(c) < 0)
        return -1;
    char cmd;
    const char *d;
    size_t len;
    if (read_packet(c, &cmd, &d, &len, "during option negotiation") < 0)
        return -1;
    if (cmd != 'O' || len < 12)
        return fail(c, "bad option negotiation reply: command '%c' (0x%02x), %zu bytes", cmd >= ' ' && cmd < 127 ? cmd : '?',
                    (unsigned char)cmd, len);
    c->version = get_u32(d);
    if (c->version < 2 || c->version > MC_PROT_VERSION)
        return fail(c, "milter wants protocol version %u; we speak 2..%d", (unsigned)c->version, MC_PROT_VERSION);
    c->actions = get_u32(d + 4) & actions;
    c->pflags = get_u32(d + 8) & pflags;
    const char *p = d + 12, *end = d + len;
    while (p < end) {
        if (end - p < 4)
            return fail(c, "bad symbol list in option negotiation reply");
        uint32_t stage = get_u32(p);
        p += 4;
        const char *list = take_str(&p, end);
        if (!list || stage > 6)
            return fail(c, "bad symbol list in option negotiation reply (stage %u)", (unsigned)stage);
        free(c->symlist[stage]);
        c->symlist[stage] = xstrdup(list);
    }
    return 0;
}

int mc_skipped(const mc_conn_t *c, int phase)
{
    return (c->pflags & phases[phase].no) != 0;
}

int mc_noreply(const mc_conn_t *c, int phase)
{
    return (c->pflags & phases[phase].nr) != 0;
}

/* True if a macro name is in a space-separated symbol list; "{x}" and "x" match each other. */
static int in_symlist(const char *list, const char *name)
{
    size_t nl = strlen(name);
    if (nl > 2 && name[0] == '{' && name[nl - 1] == '}')
        name++, nl -= 2;
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ' ' && *e != ',')
            e++;
        const char *s = p;
        size_t sl = (size_t)(e - p);
        if (sl > 2 && s[0] == '{' && s[sl - 1] == '}')
            s++, sl -= 2;
        if (sl == nl && sl && memcmp(s, name, nl) == 0)
            return 1;
        p = e;
    }
    return 0;
}

void mc_macros(mc_conn_t *c, int phase, const char *const *pairs, size_t npairs)
{
    int stage = phases[phase].stage;
    const char *list = stage >= 0 ? c->symlist[stage] : NULL;
    size_t at = mc_begin(c, 'D');
    cbuf_putc(&c->out, phases[phase].cmd);
    size_t start = c->out.len;
    for (size_t i = 0; i < npairs; i++) {
        if (list && !in_symlist(list, pairs[2 * i]))
            continue;
        cbuf_putsz(&c->out, pairs[2 * i]);
        cbuf_putsz(&c->out, pairs[2 * i + 1]);
    }
    if (c->out.len == start)
        c->out.len = at; /* nothing to send */
    else
        mc_end(c, at);
}

/* Parses one modification action; -1 if malformed. */
static int parse_action(mc_conn_t *c, char cmd, const char *d, size_t len, mc_action_t *a)
{
    const char *p = d, *end = d + len;
    memset(a, 0, sizeof *a);
    switch (cmd) {
    case 'h':
    case 'i':
    case 'm':
        a->kind = cmd == 'h' ? MCA_ADDHEADER : cmd == 'i' ? MCA_INSHEADER : MCA_CHGHEADER;
        if (cmd != 'h') {
            if (len < 4)
                return fail(c, "bad %s action: no index", action_name[a->kind]);
            a->index = get_u32(p);
            p += 4;
        }
        a->a = take_str(&p, end);
        a->b = take_str(&p, end);
        if (!a->a || !a->b || !*a->a)
            return fail(c, "bad %s action: name and value must be NUL-terminated strings", action_name[a->kind]);
        return 0;
    case 'e':
    case '+':
    case '2':
    case '-':
        a->kind = cmd == 'e' ? MCA_CHGFROM : cmd == '-' ? MCA_DELRCPT : MCA_ADDRCPT;
        a->a = take_str(&p, end);
        if (!a->a)
            return fail(c, "bad %s action: address must be a NUL-terminated string", action_name[a->kind]);
        if (cmd == 'e' || cmd == '2')
            a->b = take_str(&p, end);
        if (cmd == '2' && !a->b)
            return fail(c, "bad add rcpt action: ESMTP arguments must be a NUL-terminated string");
        return 0;
    case 'q':
        a->kind = MCA_QUARANTINE;
        a->a = take_str(&p, end);
        if (!a->a)
            return fail(c, "bad quarantine action: reason must be a NUL-terminated string");
        return 0;
    case 'b':
        a->kind = MCA_REPLBODY;
        a->data = d;
        a->len = len;
        return 0;
    }
    return fail(c, "unknown reply '%c' (0x%02x) from milter", cmd >= ' ' && cmd < 127 ? cmd : '?', (unsigned char)cmd);
}

int mc_reply(mc_conn_t *c, int phase, mc_action_fn fn, void *arg)
{
    if (c->pflags & phases[phase].nr)
        return MCV_NOREPLY;
    if (mc_flush(c) < 0)
        return -1;
    char what[64];
    snprintf(what, sizeof what, "waiting for the %s reply", phases[phase].name);
    c->reply.len = 0;
    cbuf_str(&c->reply);
    for (;;) {
        char cmd;
        const char *d, *p, *text;
        size_t len;
        if (read_packet(c, &cmd, &d, &len, what) < 0)
            return -1;
        switch (cmd) {
        case 'c':
            return MCV_CONTINUE;
        case 'a':
            return MCV_ACCEPT;
        case 'r':
            return MCV_REJECT;
        case 't':
            return MCV_TEMPFAIL;
        case 'd':
            return MCV_DISCARD;
        case 'p':
            c->progress++;
            continue;
        case 's':
            if (phase != MC_BODY)
                return fail(c, "milter replied skip to %s; skip is only valid in body", phases[phase].name);
            if (!(c->pflags & MC_P_SKIP))
                return fail(c, "milter replied skip without negotiating SMFIP_SKIP");
            return MCV_SKIP;
        case 'y':
            p = d;
            text = take_str(&p, d + len);
            if (!text)
                return fail(c, "bad reply code packet: text is not NUL-terminated");
            if (strlen(text) < 3 || (text[0] != '4' && text[0] != '5') || text[1] < '0' || text[1] > '9' || text[2] < '0' ||
                text[2] > '9' || (text[3] && text[3] != ' ' && text[3] != '-'))
                return fail(c, "bad reply code from milter: \"%.80s\" (expected 4XX or 5XX)", text);
            cbuf_puts(&c->reply, text);
            cbuf_str(&c->reply);
            return text[0] == '4' ? MCV_TEMPFAIL : MCV_REJECT;
        case '4':
            cbuf_puts(&c->reply, "421 4.7.0 milter requested shutdown");
            cbuf_str(&c->reply);
            return MCV_TEMPFAIL;
        case 'f':
            cbuf_puts(&c->reply, "421 4.7.0 milter requested connection failure");
            cbuf_str(&c->reply);
            return MCV_TEMPFAIL;
        default: {
            mc_action_t a;
            if (parse_action(c, cmd, d, len, &a) < 0)
                return -1;
            if (phase != MC_EOM)
                return fail(c, "milter sent %s during %s; actions are only valid at end of message", action_name[a.kind],
                            phases[phase].name);
            uint32_t need = cmd == '2' ? 0x80 : action_flag[a.kind]; /* SMFIF_ADDRCPT_PAR for '2' */
            if (!(c->actions & need))
                return fail(c, "milter sent %s without negotiating it (actions 0x%x)", action_name[a.kind], (unsigned)c->actions);
            if (fn)
                fn(arg, &a);
        }
        }
    }
}

void mc_abort(mc_conn_t *c)
{
    mc_queue(c, 'A', NULL, 0);
}

void mc_disconnect(mc_conn_t *c)
{
    if (c->fd >= 0) {
        mc_queue(c, 'Q', NULL, 0);
        (void)mc_flush(c);
        close(c->fd);
        c->fd = -1;
    }
    for (int i = 0; i < 7; i++) {
        free(c->symlist[i]);
        c->symlist[i] = NULL;
    }
    c->out.len = c->in.len = c->in_off = c->reply.len = 0;
    c->version = c->actions = c->pflags = 0;
}

void mc_close(mc_conn_t *c)
{
    mc_disconnect(c);
    cbuf_free(&c->out);
    cbuf_free(&c->in);
    cbuf_free(&c->reply);
    c->in_off = 0;
}
