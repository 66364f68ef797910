/*++
 * report - print a play_result_t as readable text or as one JSON object
 *
 * Text: one line per phase ("envfrom <a@b>: reject: 550 5.7.1 ..."), the eom
 * modifications indented under eom, then "verdict: ...". Multi-line SMTP replies
 * (from smfi_setmlreply, lines joined by CRLF) print one line each.
 * JSON: {"milter","protocol","phases","modifications","verdict","phase","reply","exit","elapsed_ms","error"}.
 *--*/
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "milter_proto.h"
#include "play.h"

#define BODY_LINES 5 /* lines of a replaced body shown */

/* Appends reply text; continuation lines of a multi-line reply go on their own indented lines. */
static void text_reply(cbuf_t *out, const char *reply, const char *indent)
{
    const char *p = reply;
    for (int first = 1; *p; first = 0) {
        const char *e = strstr(p, "\r\n");
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (!first)
            cbuf_printf(out, "\n%s", indent);
        cbuf_put(out, p, n);
        p += n;
        if (e)
            p += 2;
    }
}

/* Visits the first BODY_LINES lines of a replaced body. */
static size_t body_lines(const play_mod_t *m, const char **start, size_t *len, size_t max)
{
    const char *p = m->head.p ? m->head.p : "", *end = p + m->head.len;
    size_t n = 0;
    while (p < end && n < max) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        start[n] = p;
        len[n] = (size_t)(e - p) - (e > p && e[-1] == '\r');
        n++;
        p = nl ? nl + 1 : end;
    }
    return n;
}

static void text_mod(cbuf_t *out, const play_mod_t *m)
{
    switch (m->kind) {
    case MCA_ADDHEADER:
        cbuf_printf(out, "  add header: %s:%s%s\n", m->a, *m->b == ' ' ? "" : " ", m->b);
        break;
    case MCA_INSHEADER:
        cbuf_printf(out, "  insert header at %u: %s:%s%s\n", (unsigned)m->index, m->a, *m->b == ' ' ? "" : " ", m->b);
        break;
    case MCA_CHGHEADER:
        if (*m->b)
            cbuf_printf(out, "  change header %s[%u]:%s%s\n", m->a, (unsigned)m->index, *m->b == ' ' ? "" : " ", m->b);
        else
            cbuf_printf(out, "  delete header %s[%u]\n", m->a, (unsigned)m->index);
        break;
    case MCA_CHGFROM:
        cbuf_printf(out, "  change from: %s%s%s\n", m->a, m->b && *m->b ? " args: " : "", m->b && *m->b ? m->b : "");
        break;
    case MCA_ADDRCPT:
        cbuf_printf(out, "  add rcpt: %s%s%s\n", m->a, m->b && *m->b ? " args: " : "", m->b && *m->b ? m->b : "");
        break;
    case MCA_DELRCPT:
        cbuf_printf(out, "  delete rcpt: %s\n", m->a);
        break;
    case MCA_QUARANTINE:
        cbuf_printf(out, "  quarantine: %s\n", m->a);
        break;
    case MCA_REPLBODY: {
        const char *ls[BODY_LINES];
        size_t ll[BODY_LINES];
        size_t n = body_lines(m, ls, ll, BODY_LINES);
        cbuf_printf(out, "  replace body: %zu bytes\n", m->size);
        for (size_t i = 0; i < n; i++) {
            cbuf_puts(out, "    | ");
            cbuf_put(out, ls[i], ll[i]);
            cbuf_putc(out, '\n');
        }
        break;
    }
    }
}

void report_text(cbuf_t *out, const play_opts_t *o, const play_result_t *r)
{
    if (r->version)
        cbuf_printf(out, "milter %s: protocol %u, actions 0x%x, flags 0x%x\n", o->spec, (unsigned)r->version,
                    (unsigned)r->actions, (unsigned)r->pflags);
    for (size_t i = 0; i < r->nsteps; i++) {
        const play_step_t *s = &r->steps[i];
        cbuf_printf(out, "%s", mc_phase_name(s->phase));
        if (s->phase == MC_HEADER) {
            cbuf_printf(out, " (%zu of %zu)", s->count, s->total);
            if (s->arg)
                cbuf_printf(out, " %s", s->arg);
        } else if (s->phase == MC_BODY) {
            cbuf_printf(out, " (%zu of %zu chunks, %zu bytes)", s->count, s->total, s->bytes);
        } else if (s->arg) {
            cbuf_printf(out, " %s", s->arg);
        }
        cbuf_printf(out, ": %s", mc_verdict_name(s->verdict));
        if (s->reply) {
            cbuf_puts(out, ": ");
            text_reply(out, s->reply, "    ");
        }
        cbuf_putc(out, '\n');
        if (s->phase == MC_EOM)
            for (size_t j = 0; j < r->nmods; j++)
                text_mod(out, &r->mods[j]);
    }
    if (r->progress)
        cbuf_printf(out, "progress replies: %u\n", r->progress);
    if (r->error) {
        cbuf_printf(out, "error: %s\n", r->error);
        cbuf_printf(out, "verdict: error (exit 3)\n");
        return;
    }
    cbuf_printf(out, "verdict: %s at %s", mc_verdict_name(r->verdict), mc_phase_name(r->stop_phase));
    if (r->reply) {
        cbuf_puts(out, ": ");
        text_reply(out, r->reply, "    ");
    }
    cbuf_printf(out, " (exit %d)\n", r->exit_code);
}

static void json_mod(cbuf_t *out, const play_mod_t *m)
{
    static const char *const kinds[] = {[MCA_ADDHEADER] = "add_header", [MCA_INSHEADER] = "insert_header",
                                        [MCA_CHGHEADER] = "change_header", [MCA_CHGFROM] = "change_from",
                                        [MCA_ADDRCPT] = "add_rcpt", [MCA_DELRCPT] = "delete_rcpt",
                                        [MCA_REPLBODY] = "replace_body", [MCA_QUARANTINE] = "quarantine"};
    const char *kind = m->kind == MCA_CHGHEADER && !*m->b ? "delete_header" : kinds[m->kind];
    cbuf_printf(out, "{\"action\":\"%s\"", kind);
    switch (m->kind) {
    case MCA_ADDHEADER:
    case MCA_INSHEADER:
    case MCA_CHGHEADER:
        if (m->kind != MCA_ADDHEADER)
            cbuf_printf(out, ",\"index\":%u", (unsigned)m->index);
        cbuf_puts(out, ",\"name\":");
        json_str(out, m->a);
        if (*m->b || m->kind != MCA_CHGHEADER) {
            cbuf_puts(out, ",\"value\":");
            json_str(out, m->b);
        }
        break;
    case MCA_CHGFROM:
    case MCA_ADDRCPT:
    case MCA_DELRCPT:
        cbuf_puts(out, m->kind == MCA_CHGFROM ? ",\"from\":" : ",\"rcpt\":");
        json_str(out, m->a);
        if (m->kind != MCA_DELRCPT) {
            cbuf_puts(out, ",\"args\":");
            json_str(out, m->b);
        }
        break;
    case MCA_QUARANTINE:
        cbuf_puts(out, ",\"reason\":");
        json_str(out, m->a);
        break;
    case MCA_REPLBODY: {
        const char *ls[BODY_LINES];
        size_t ll[BODY_LINES];
        size_t n = body_lines(m, ls, ll, BODY_LINES);
        cbuf_printf(out, ",\"size\":%zu,\"first_lines\":[", m->size);
        for (size_t i = 0; i < n; i++) {
            if (i)
                cbuf_putc(out, ',');
            json_strn(out, ls[i], ll[i]);
        }
        cbuf_putc(out, ']');
        break;
    }
    }
    cbuf_putc(out, '}');
}

void report_json(cbuf_t *out, const play_opts_t *o, const play_result_t *r)
{
    cbuf_puts(out, "{\"milter\":");
    json_str(out, o->spec);
    if (r->version)
        cbuf_printf(out, ",\"protocol\":{\"version\":%u,\"actions\":%u,\"flags\":%u}", (unsigned)r->version,
                    (unsigned)r->actions, (unsigned)r->pflags);
    else
        cbuf_puts(out, ",\"protocol\":null");
    cbuf_puts(out, ",\"phases\":[");
    for (size_t i = 0; i < r->nsteps; i++) {
        const play_step_t *s = &r->steps[i];
        if (i)
            cbuf_putc(out, ',');
        cbuf_printf(out, "{\"phase\":\"%s\",\"verdict\":\"%s\"", mc_phase_name(s->phase), mc_verdict_name(s->verdict));
        if (s->arg) {
            cbuf_puts(out, s->phase == MC_HEADER ? ",\"header\":" : ",\"arg\":");
            json_str(out, s->arg);
        }
        if (s->phase == MC_HEADER)
            cbuf_printf(out, ",\"sent\":%zu,\"total\":%zu", s->count, s->total);
        if (s->phase == MC_BODY)
            cbuf_printf(out, ",\"chunks\":%zu,\"total_chunks\":%zu,\"bytes\":%zu", s->count, s->total, s->bytes);
        if (s->reply) {
            cbuf_puts(out, ",\"reply\":");
            json_str(out, s->reply);
        }
        cbuf_putc(out, '}');
    }
    cbuf_puts(out, "],\"modifications\":[");
    for (size_t i = 0; i < r->nmods; i++) {
        if (i)
            cbuf_putc(out, ',');
        json_mod(out, &r->mods[i]);
    }
    cbuf_puts(out, "],\"verdict\":");
    json_str(out, r->error ? "error" : mc_verdict_name(r->verdict));
    cbuf_printf(out, ",\"phase\":\"%s\",\"reply\":", mc_phase_name(r->stop_phase));
    json_str(out, r->reply);
    cbuf_printf(out, ",\"progress\":%u,\"exit\":%d,\"elapsed_ms\":%.3f,\"error\":", r->progress, r->exit_code,
                r->elapsed_ms);
    json_str(out, r->error);
    cbuf_puts(out, "}\n");
}
