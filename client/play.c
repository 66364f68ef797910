/*++
 * play - one SMTP transaction against a milter, as an MTA would run it
 *
 * Owns the play_result_t it fills (freed by play_result_free). Main thread only.
 * Stops at the first reject/tempfail/discard/accept; a rejected or tempfailed
 * recipient only drops that recipient, as in SMTP. Protocol errors end the run
 * with exit code 3 and r->error set.
 *--*/
#include "play.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "milter_proto.h"

#define MAX_PAIRS 32

typedef struct {
    const char *kv[2 * MAX_PAIRS]; /* name, value pairs (borrowed) */
    size_t n;
} macros_t;

static void macro_set(macros_t *ms, const char *name, const char *value)
{
    for (size_t i = 0; i < ms->n; i++)
        if (strcmp(ms->kv[2 * i], name) == 0) {
            ms->kv[2 * i + 1] = value;
            return;
        }
    if (ms->n < MAX_PAIRS) {
        ms->kv[2 * ms->n] = name;
        ms->kv[2 * ms->n + 1] = value;
        ms->n++;
    }
}

/* Adds the user's macros for phase, then queues them. */
static void send_macros(mc_conn_t *c, const play_opts_t *o, int phase, macros_t *ms)
{
    for (size_t i = 0; i < o->nmacros; i++)
        if (o->macros[i].phase == phase)
            macro_set(ms, o->macros[i].name, o->macros[i].value);
    if (ms->n)
        mc_macros(c, phase, ms->kv, ms->n);
}

/* An envelope argument "<addr> ARG..." split into its parts: addr gets angle brackets. */
typedef struct {
    char *addr;   /* owned, "<...>" */
    char *bare;   /* owned, without brackets */
    char *host;   /* owned, part after the last @ or "" */
    char **args;  /* owned */
    size_t nargs;
} envaddr_t;

static void envaddr_parse(envaddr_t *e, const char *s)
{
    memset(e, 0, sizeof *e);
    while (*s == ' ' || *s == '\t')
        s++;
    const char *t = s;
    while (*t && *t != ' ' && *t != '\t')
        t++;
    size_t n = (size_t)(t - s);
    if (n >= 2 && s[0] == '<' && s[n - 1] == '>')
        e->bare = xstrndup(s + 1, n - 2);
    else
        e->bare = xstrndup(s, n);
    e->addr = xmalloc(strlen(e->bare) + 3);
    sprintf(e->addr, "<%s>", e->bare);
    const char *at = strrchr(e->bare, '@');
    e->host = xstrdup(at ? at + 1 : "");
    for (;;) {
        while (*t == ' ' || *t == '\t')
            t++;
        if (!*t)
            break;
        const char *a = t;
        while (*t && *t != ' ' && *t != '\t')
            t++;
        e->args = xrealloc(e->args, (e->nargs + 1) * sizeof *e->args);
        e->args[e->nargs++] = xstrndup(a, (size_t)(t - a));
    }
}

static void envaddr_free(envaddr_t *e)
{
    free(e->addr);
    free(e->bare);
    free(e->host);
    for (size_t i = 0; i < e->nargs; i++)
        free(e->args[i]);
    free(e->args);
}

static play_step_t *add_step(play_result_t *r, int phase, const char *arg)
{
    r->steps = xrealloc(r->steps, (r->nsteps + 1) * sizeof *r->steps);
    play_step_t *s = &r->steps[r->nsteps++];
    memset(s, 0, sizeof *s);
    s->phase = phase;
    s->verdict = MCV_NONE;
    s->arg = arg ? xstrdup(arg) : NULL;
    return s;
}

/* Records a verdict (or error) for step s; returns 1 if the transaction stops here. */
static int settle(mc_conn_t *c, play_result_t *r, play_step_t *s, int v)
{
    if (v < 0) {
        r->error = xstrdup(c->err);
        r->stop_phase = s->phase;
        return 1;
    }
    s->verdict = v;
    if (c->reply.len)
        s->reply = xstrdup(cbuf_str(&c->reply));
    if (v == MCV_NONE || v == MCV_NOREPLY || v == MCV_CONTINUE || v == MCV_SKIP)
        return 0;
    if (s->phase == MC_ENVRCPT && (v == MCV_REJECT || v == MCV_TEMPFAIL))
        return 0; /* only this recipient is refused */
    r->verdict = v;
    r->stop_phase = s->phase;
    r->reply = s->reply ? xstrdup(s->reply) : NULL;
    return 1;
}

static void on_action(void *arg, const mc_action_t *a)
{
    play_result_t *r = arg;
    if (a->kind == MCA_REPLBODY) { /* chunks of one replacement body add up in one entry */
        for (size_t i = 0; i < r->nmods; i++)
            if (r->mods[i].kind == MCA_REPLBODY) {
                play_mod_t *m = &r->mods[i];
                m->size += a->len;
                if (m->head.len < PLAY_BODY_HEAD)
                    cbuf_put(&m->head, a->data, a->len < PLAY_BODY_HEAD - m->head.len ? a->len : PLAY_BODY_HEAD - m->head.len);
                return;
            }
    }
    r->mods = xrealloc(r->mods, (r->nmods + 1) * sizeof *r->mods);
    play_mod_t *m = &r->mods[r->nmods++];
    memset(m, 0, sizeof *m);
    m->kind = a->kind;
    m->index = a->index;
    m->a = a->a ? xstrdup(a->a) : NULL;
    m->b = a->b ? xstrdup(a->b) : NULL;
    if (a->kind == MCA_REPLBODY) {
        m->size = a->len;
        cbuf_put(&m->head, a->data, a->len < PLAY_BODY_HEAD ? a->len : PLAY_BODY_HEAD);
    }
}

/* Queues a command whose payload is the given NUL-terminated strings. */
static void queue_strs(mc_conn_t *c, char cmd, const char *const *s, size_t n)
{
    size_t at = mc_begin(c, cmd);
    for (size_t i = 0; i < n; i++)
        cbuf_putsz(&c->out, s[i]);
    mc_end(c, at);
}

static void queue_env(mc_conn_t *c, char cmd, const envaddr_t *e)
{
    size_t at = mc_begin(c, cmd);
    cbuf_putsz(&c->out, e->addr);
    for (size_t i = 0; i < e->nargs; i++)
        cbuf_putsz(&c->out, e->args[i]);
    mc_end(c, at);
}

static void queue_connect(mc_conn_t *c, const play_opts_t *o)
{
    const char *ip = o->client_ip;
    size_t at = mc_begin(c, 'C');
    cbuf_putsz(&c->out, o->client_host);
    if (!*ip || strcmp(ip, "unknown") == 0) {
        cbuf_putc(&c->out, 'U');
    } else if (strncmp(ip, "unix:", 5) == 0 || strncmp(ip, "local:", 6) == 0) {
        cbuf_putc(&c->out, 'L');
        cbuf_put_u16(&c->out, 0);
        cbuf_putsz(&c->out, strchr(ip, ':') + 1);
    } else {
        cbuf_putc(&c->out, strchr(ip, ':') ? '6' : '4');
        cbuf_put_u16(&c->out, (uint16_t)o->client_port);
        cbuf_putsz(&c->out, ip);
    }
    mc_end(c, at);
}

/* Plays the phases on an open, negotiated connection; returns when the transaction ends. */
static void play_phases(mc_conn_t *c, const play_opts_t *o, const eml_t *m, play_result_t *r, envaddr_t *from, envaddr_t *to,
                        size_t nto)
{
    char qid[32], port[16], client[300];
    snprintf(qid, sizeof qid, "%lX%04X", (unsigned long)time(NULL) & 0xfffffff, (unsigned)getpid() & 0xffff);
    snprintf(port, sizeof port, "%u", o->client_port);
    snprintf(client, sizeof client, "%s [%s]", o->client_host, o->client_ip);
    int in_message = 0;
    macros_t ms;
    play_step_t *s;
    int v;

    /* connect */
    s = add_step(r, MC_CONNECT, client);
    if (!mc_skipped(c, MC_CONNECT)) {
        ms.n = 0;
        macro_set(&ms, "j", "mx.pmilter-client.test");
        macro_set(&ms, "{daemon_name}", "pmilter-client");
        macro_set(&ms, "{daemon_addr}", "127.0.0.1");
        macro_set(&ms, "v", "Postfix 3.7 (pmilter-client)");
        macro_set(&ms, "_", client);
        macro_set(&ms, "{client_addr}", o->client_ip);
        macro_set(&ms, "{client_name}", o->client_host);
        macro_set(&ms, "{client_ptr}", o->client_host);
        macro_set(&ms, "{client_port}", port);
        macro_set(&ms, "{client_connections}", "0");
        send_macros(c, o, MC_CONNECT, &ms);
        queue_connect(c, o);
        if (settle(c, r, s, mc_reply(c, MC_CONNECT, NULL, NULL)))
            goto done;
    }
    /* helo */
    const char *helo = o->helo ? o->helo : o->client_host;
    s = add_step(r, MC_HELO, helo);
    if (!mc_skipped(c, MC_HELO)) {
        ms.n = 0;
        send_macros(c, o, MC_HELO, &ms);
        queue_strs(c, 'H', &helo, 1);
        if (settle(c, r, s, mc_reply(c, MC_HELO, NULL, NULL)))
            goto done;
    }
    /* envfrom */
    in_message = 1;
    s = add_step(r, MC_ENVFROM, from->addr);
    if (!mc_skipped(c, MC_ENVFROM)) {
        ms.n = 0;
        macro_set(&ms, "i", qid);
        macro_set(&ms, "{mail_addr}", from->bare);
        macro_set(&ms, "{mail_host}", from->host);
        macro_set(&ms, "{mail_mailer}", "smtp");
        send_macros(c, o, MC_ENVFROM, &ms);
        queue_env(c, 'M', from);
        if (settle(c, r, s, mc_reply(c, MC_ENVFROM, NULL, NULL)))
            goto done;
    }
    /* envrcpt: a refused recipient is dropped; the message goes on if one is left */
    size_t accepted = 0;
    int last_refusal = MCV_REJECT;
    char *refusal_reply = NULL;
    for (size_t i = 0; i < nto; i++) {
        s = add_step(r, MC_ENVRCPT, to[i].addr);
        if (mc_skipped(c, MC_ENVRCPT)) {
            accepted++;
            continue;
        }
        ms.n = 0;
        macro_set(&ms, "i", qid);
        macro_set(&ms, "{rcpt_addr}", to[i].bare);
        macro_set(&ms, "{rcpt_host}", to[i].host);
        macro_set(&ms, "{rcpt_mailer}", "smtp");
        send_macros(c, o, MC_ENVRCPT, &ms);
        queue_env(c, 'R', &to[i]);
        if (settle(c, r, s, mc_reply(c, MC_ENVRCPT, NULL, NULL))) {
            free(refusal_reply);
            goto done;
        }
        if (s->verdict == MCV_REJECT || s->verdict == MCV_TEMPFAIL) {
            last_refusal = s->verdict;
            free(refusal_reply);
            refusal_reply = s->reply ? xstrdup(s->reply) : NULL;
        } else {
            accepted++;
        }
    }
    if (!accepted) {
        r->verdict = last_refusal;
        r->stop_phase = MC_ENVRCPT;
        r->reply = refusal_reply;
        goto done;
    }
    free(refusal_reply);
    /* data */
    s = add_step(r, MC_DATA, NULL);
    if (!mc_skipped(c, MC_DATA)) {
        ms.n = 0;
        macro_set(&ms, "i", qid);
        send_macros(c, o, MC_DATA, &ms);
        mc_queue(c, 'T', NULL, 0);
        if (settle(c, r, s, mc_reply(c, MC_DATA, NULL, NULL)))
            goto done;
    }
    /* headers: one step for all of them, naming the header that stopped the message */
    s = add_step(r, MC_HEADER, NULL);
    s->total = m->nhdr;
    if (!mc_skipped(c, MC_HEADER)) {
        int lead = (c->pflags & MC_P_HDR_LEADSPC) != 0;
        s->verdict = mc_noreply(c, MC_HEADER) ? MCV_NOREPLY : MCV_CONTINUE;
        for (size_t i = 0; i < m->nhdr; i++) {
            const char *val = m->hdr[i].value;
            if (!lead)
                while (*val == ' ' || *val == '\t')
                    val++;
            const char *hv[2] = {m->hdr[i].name, val};
            queue_strs(c, 'L', hv, 2);
            s->count++;
            v = mc_reply(c, MC_HEADER, NULL, NULL);
            if (v != MCV_CONTINUE && v != MCV_NOREPLY) {
                free(s->arg);
                s->arg = xstrdup(m->hdr[i].name);
                if (settle(c, r, s, v))
                    goto done;
            }
        }
    }
    /* eoh */
    s = add_step(r, MC_EOH, NULL);
    if (!mc_skipped(c, MC_EOH)) {
        ms.n = 0;
        macro_set(&ms, "i", qid);
        send_macros(c, o, MC_EOH, &ms);
        mc_queue(c, 'N', NULL, 0);
        if (settle(c, r, s, mc_reply(c, MC_EOH, NULL, NULL)))
            goto done;
    }
    /* body in chunks of at most MILTER_CHUNK_SIZE; skip ends it early */
    s = add_step(r, MC_BODY, NULL);
    s->total = (m->body_len + MC_CHUNK - 1) / MC_CHUNK;
    if (!mc_skipped(c, MC_BODY)) {
        s->verdict = mc_noreply(c, MC_BODY) ? MCV_NOREPLY : MCV_CONTINUE;
        for (size_t off = 0; off < m->body_len; off += MC_CHUNK) {
            size_t n = m->body_len - off < MC_CHUNK ? m->body_len - off : MC_CHUNK;
            mc_queue(c, 'B', m->body + off, n);
            s->count++;
            s->bytes += n;
            v = mc_reply(c, MC_BODY, NULL, NULL);
            if (v != MCV_CONTINUE && v != MCV_NOREPLY) {
                if (settle(c, r, s, v))
                    goto done;
                if (v == MCV_SKIP)
                    break;
            }
        }
    }
    /* eom */
    s = add_step(r, MC_EOM, NULL);
    ms.n = 0;
    macro_set(&ms, "i", qid);
    send_macros(c, o, MC_EOM, &ms);
    mc_queue(c, 'E', NULL, 0);
    v = mc_reply(c, MC_EOM, on_action, r);
    in_message = 0;
    if (!settle(c, r, s, v)) {
        r->verdict = v;
        r->stop_phase = MC_EOM;
        r->reply = s->reply ? xstrdup(s->reply) : NULL;
    }
done:
    if (in_message && !r->error)
        mc_abort(c);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int play_run(const play_opts_t *o, const eml_t *m, play_result_t *r)
{
    double started = now_ms();
    memset(r, 0, sizeof *r);
    r->verdict = MCV_CONTINUE;
    r->stop_phase = MC_EOM;
    envaddr_t from, *to;
    size_t nto = o->nto;
    const char *f = o->from;
    char **list = NULL;
    size_t nlist = 0;
    if (!f && eml_header(m, "From") && (nlist = eml_addresses(eml_header(m, "From"), &list)) > 0)
        f = list[0];
    envaddr_parse(&from, f ? f : "<>");
    for (size_t i = 0; i < nlist; i++)
        free(list[i]);
    free(list);
    list = NULL;
    if (nto) {
        to = xmalloc(nto * sizeof *to);
        for (size_t i = 0; i < nto; i++)
            envaddr_parse(&to[i], o->to[i]);
    } else {
        const char *hv = eml_header(m, "To");
        nto = hv ? eml_addresses(hv, &list) : 0;
        to = xmalloc((nto ? nto : 1) * sizeof *to);
        for (size_t i = 0; i < nto; i++) {
            envaddr_parse(&to[i], list[i]);
            free(list[i]);
        }
        free(list);
    }

    mc_conn_t c;
    mc_init(&c, o->timeout_ms);
    if (nto == 0) {
        r->error = xstrdup("no recipient: the message has no To: address; give --to");
    } else if (mc_open(&c, o->spec) < 0 || mc_negotiate(&c, MC_ALL_ACTIONS, MC_ALL_PROTO) < 0) {
        r->error = xstrdup(c.err);
        r->stop_phase = MC_CONNECT;
    } else {
        r->version = c.version;
        r->actions = c.actions;
        r->pflags = c.pflags;
        play_phases(&c, o, m, r, &from, to, nto);
        r->progress = c.progress;
    }
    mc_close(&c);
    r->elapsed_ms = now_ms() - started;
    envaddr_free(&from);
    for (size_t i = 0; i < nto; i++)
        envaddr_free(&to[i]);
    free(to);

    if (r->error)
        r->exit_code = 3;
    else if (r->verdict == MCV_REJECT || r->verdict == MCV_DISCARD)
        r->exit_code = 1;
    else if (r->verdict == MCV_TEMPFAIL)
        r->exit_code = 2;
    else
        r->exit_code = 0;
    return r->exit_code;
}

void play_result_free(play_result_t *r)
{
    for (size_t i = 0; i < r->nsteps; i++) {
        free(r->steps[i].arg);
        free(r->steps[i].reply);
    }
    free(r->steps);
    for (size_t i = 0; i < r->nmods; i++) {
        free(r->mods[i].a);
        free(r->mods[i].b);
        cbuf_free(&r->mods[i].head);
    }
    free(r->mods);
    free(r->reply);
    free(r->error);
    memset(r, 0, sizeof *r);
}
