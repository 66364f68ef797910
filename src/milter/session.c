/* session: allocation and per-message reset of pm_session_t. */
#include "milter/session.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

static atomic_ulong next_id = 1;

pm_session_t *pm_session_new(const pm_config_t *cfg)
{
    pm_session_t *s = pm_calloc(1, sizeof *s);
    s->id = atomic_fetch_add(&next_id, 1);
    pm_buf_init(&s->body, cfg->max_body_size);
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
    r->xcode = pm_free(r->xcode);
    r->lines = pm_argv_free(r->lines);
}

void pm_session_end_message(pm_session_t *s)
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
    s->message_size = 0;
    s->limit_logged = 0;
    s->message_refused = 0;
    s->receive_time = 0;
    pm_store_clear(&s->message_store);
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
