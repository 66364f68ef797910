/* session: allocation, what a message may keep, and per-message reset of
 * pm_session_t. Threads: the worker serving the session; the process-wide
 * byte count and the trim flags are atomic. */
#include "milter/session.h"

#include <assert.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "mime/mime.h"
#include "auth/spf.h"

static atomic_ulong next_id = 1;
static atomic_size_t input_bytes; /* headers and bodies all sessions keep now */

/* Takes n bytes from the process-wide budget; 0 if they do not fit. */
static int take_input_bytes(size_t n, const pm_config_t *cfg)
{
    size_t budget = (size_t)cfg->max_input_memory << 20;
    size_t now = atomic_load(&input_bytes);
    do {
        if (now + n > budget)
            return 0;
    } while (!atomic_compare_exchange_weak(&input_bytes, &now, now + n));
    return 1;
}

/* The limit a header would pass, if any. */
static const char *header_over_limit(const pm_session_t *s, const pm_config_t *cfg, size_t size)
{
    if (s->n_headers >= (size_t)cfg->max_headers)
        return "max_headers";
    if (s->header_bytes + size > (size_t)cfg->max_header_bytes)
        return "max_header_bytes";
    if (!take_input_bytes(size, cfg))
        return "max_input_memory";
    return NULL;
}

/* Once a limit stops them, no later header is kept either: Session#headers
 * is a prefix of the message's headers, never one with a gap. */
const char *pm_session_keep_header(pm_session_t *s, const pm_config_t *cfg, const char *name, const char *value)
{
    size_t size = strlen(name) + strlen(value) + 2;
    if (s->header_limit || (s->header_limit = header_over_limit(s, cfg, size)) != NULL)
        return s->header_limit;
    s->headers = pm_realloc(s->headers, (s->n_headers + 1) * sizeof *s->headers);
    s->headers[s->n_headers].name = pm_strdup(name);
    s->headers[s->n_headers].value = pm_strdup(value);
    s->n_headers++;
    s->header_bytes += size;
    s->kept_bytes += size;
    return NULL;
}

/* Likewise the body: once cut, nothing more is kept (body_truncated?). */
const char *pm_session_keep_body(pm_session_t *s, const pm_config_t *cfg, const void *chunk, size_t len)
{
    if (s->body.truncated)
        return "max_body_size";
    size_t room = s->body.limit > s->body.len ? s->body.limit - s->body.len : 0;
    size_t want = len < room ? len : room;
    if (want > 0 && !take_input_bytes(want, cfg)) {
        s->body.truncated = 1;
        return "max_input_memory";
    }
    s->kept_bytes += pm_buf_append(&s->body, chunk, want);
    if (want < len) {
        s->body.truncated = 1;
        return "max_body_size";
    }
    return NULL;
}

/* After a big message, malloc_trim gives the freed pages back (glibc keeps
 * them otherwise: 364 MB stayed after a header flood). One trim at a time; a
 * big message that ends while one runs gets another right after it, so the
 * last one to end is always followed by a trim. */
#define TRIM_AFTER_BYTES (1u << 20)
static atomic_int trim_wanted, trimming;

static void trim_after_big_message(void)
{
    atomic_store(&trim_wanted, 1);
    while (atomic_load(&trim_wanted) && !atomic_exchange(&trimming, 1)) {
        atomic_store(&trim_wanted, 0);
        malloc_trim(0);
        atomic_store(&trimming, 0);
    }
}

pm_session_t *pm_session_new(const pm_config_t *cfg)
{
    pm_session_t *s = pm_calloc(1, sizeof *s);
    s->id = atomic_fetch_add(&next_id, 1);
    pm_buf_init(&s->body, cfg->max_body_size);
    s->decided_phase = -1;
    return s;
}

void pm_session_set(char **field, const char *value)
{
    free(*field);
    *field = value ? pm_strdup(value) : NULL;
}

char **pm_argv_dup(char *const *argv)
{
    size_t n = 0;
    while (argv && argv[n])
        n++;
    if (n == 0)
        return NULL; /* the usual MAIL FROM and RCPT TO: no allocation per message */
    char **out = pm_calloc(n + 1, sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i] = pm_strdup(argv[i]);
    return out;
}

char **pm_argv_free(char **argv)
{
    for (size_t i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
    return NULL;
}

static void rcpt_clear(pm_rcpt_t *r)
{
    r->addr = pm_free(r->addr);
    r->args = pm_argv_free(r->args);
}

void pm_reply_clear(pm_reply_t *r)
{
    r->rcode[0] = '\0';
    if (r->xcode)
        r->xcode = pm_free(r->xcode);
    if (r->lines)
        r->lines = pm_argv_free(r->lines);
}

/* One allocation per edit (name and value together) and the list grown by
 * doubling: an eom handler that adds a header costs two mallocs, not four. */
void pm_call_note_edit(pm_call_t *call, char kind, int index, const char *name, const char *value)
{
    size_t n = call->n_edits;
    if ((n & (n - 1)) == 0) /* 0, 1, 2, 4...: the list is full */
        call->edits = pm_realloc(call->edits, (n ? 2 * n : 1) * sizeof *call->edits);
    size_t name_len = strlen(name) + 1, value_len = value ? strlen(value) + 1 : 0;
    char *text = pm_malloc(name_len + value_len);
    memcpy(text, name, name_len);
    if (value)
        memcpy(text + name_len, value, value_len);
    call->edits[call->n_edits++] = (pm_header_edit_t){kind, index, text, value ? text + name_len : NULL};
}

void pm_call_clear_edits(pm_call_t *call)
{
    if (call->edits == NULL)
        return;
    for (size_t i = 0; i < call->n_edits; i++)
        free(call->edits[i].name);
    call->edits = pm_free(call->edits);
    call->n_edits = 0;
}

/* What a message allocates. */
static void free_message_data(pm_session_t *s)
{
    s->envfrom = pm_free(s->envfrom);
    s->envfrom_args = pm_argv_free(s->envfrom_args);
    for (size_t i = 0; i < s->n_rcpts; i++)
        rcpt_clear(&s->rcpts[i]);
    s->rcpts = pm_free(s->rcpts);
    s->n_rcpts = 0;
    rcpt_clear(&s->last_rcpt);
    for (size_t i = 0; i < s->n_headers; i++) {
        free(s->headers[i].name);
        free(s->headers[i].value);
    }
    s->headers = pm_free(s->headers);
    s->n_headers = 0;
    pm_buf_reset(&s->body);
    s->mime = pm_mime_free(s->mime);
    s->spf = pm_spf_result_free(s->spf);
    s->spf_helo = pm_spf_result_free(s->spf_helo);
    free(s->dkim_sigs);
    s->dkim_sigs = NULL;
    s->n_dkim_sigs = s->dkim_verified = 0;
    pm_store_clear(&s->message_store);
}

void pm_session_end_message(pm_session_t *s)
{
    /* Called again at each MAIL FROM: usually the last eom freed it all already. */
    if (s->envfrom || s->envfrom_args || s->rcpts || s->last_rcpt.addr || s->last_rcpt.args || s->headers ||
        s->body.data || s->body.len || s->body.truncated || s->mime || s->spf || s->spf_helo || s->dkim_sigs ||
        s->n_dkim_sigs || s->dkim_verified || s->message_store.items || s->message_store.n)
        free_message_data(s);
    if (s->kept_bytes > 0) { /* most messages keep nothing: no write to the counter every worker shares */
        size_t was = atomic_fetch_sub(&input_bytes, s->kept_bytes);
        assert(was >= s->kept_bytes); /* the process-wide count covers every session's share */
        (void)was;
    }
    if (s->kept_bytes >= TRIM_AFTER_BYTES)
        trim_after_big_message();
    s->kept_bytes = 0;
    s->header_bytes = 0;
    s->header_limit = NULL;
    s->message_size = 0;
    s->limit_logged = 0;
    s->message_refused = 0;
    s->receive_time = 0;
    s->dns_ms = 0;
    s->handler_us = 0;
    s->kv_us = 0;
    s->decided_phase = -1;
    s->reply_code[0] = '\0';
}

pm_session_t *pm_session_free(pm_session_t *s)
{
    if (s == NULL)
        return NULL;
    pm_session_end_message(s);
    pm_store_clear(&s->store);
    free(s->client_addr);
    free(s->client_host);
    free(s->helo);
    free(s);
    return NULL;
}
