/* session: allocation and per-message reset of pm_session_t. */
#include "session.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "alloc.h"

static atomic_ulong next_id = 1;

pm_session_t *pm_session_new(void)
{
    pm_session_t *s = pm_calloc(1, sizeof *s);
    s->id = atomic_fetch_add(&next_id, 1);
    return s;
}

void pm_session_set(char **field, const char *value)
{
    free(*field);
    *field = value ? pm_strdup(value) : NULL;
}

void pm_session_end_message(pm_session_t *s)
{
    s->envfrom = pm_free(s->envfrom);
    s->envrcpt = pm_free(s->envrcpt);
    s->receive_time = 0;
}

pm_session_t *pm_session_free(pm_session_t *s)
{
    if (s == NULL)
        return NULL;
    pm_session_end_message(s);
    free(s->client_addr);
    free(s->client_host);
    free(s->helo);
    free(s);
    return NULL;
}
