/* store: see store.h. */
#include "milter/store.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

static pm_store_entry_t *find(const pm_store_t *s, const char *key, size_t key_len)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].key_len == key_len && memcmp(s->items[i].key, key, key_len) == 0)
            return &s->items[i];
    return NULL;
}

int pm_store_put(pm_store_t *s, const char *key, size_t key_len, const char *value, size_t value_len)
{
    pm_store_entry_t *e = find(s, key, key_len);
    size_t old = e ? e->key_len + e->value_len : 0;
    if (s->bytes - old + key_len + value_len > PM_STORE_MAX_BYTES)
        return -1;
    if (e == NULL) {
        s->items = pm_realloc(s->items, (s->n + 1) * sizeof *s->items);
        e = &s->items[s->n++];
        e->key = pm_malloc(key_len ? key_len : 1);
        memcpy(e->key, key, key_len);
        e->key_len = key_len;
    } else {
        free(e->value);
    }
    e->value = pm_malloc(value_len ? value_len : 1);
    memcpy(e->value, value, value_len);
    e->value_len = value_len;
    s->bytes = s->bytes - old + key_len + value_len;
    return 0;
}

const char *pm_store_get(const pm_store_t *s, const char *key, size_t key_len, size_t *value_len)
{
    pm_store_entry_t *e = find(s, key, key_len);
    if (e == NULL)
        return NULL;
    *value_len = e->value_len;
    return e->value;
}

void pm_store_clear(pm_store_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->items[i].key);
        free(s->items[i].value);
    }
    free(s->items);
    memset(s, 0, sizeof *s);
}
