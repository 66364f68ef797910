/* store: a small key/value store of opaque byte strings, kept in the C session
 * so that data a handler saves survives across callbacks that run on
 * different VMs. mrb_store.c encodes Ruby values into these bytes. Bounded:
 * PM_STORE_MAX_BYTES per store. Linear lookup: stores hold a handful of keys.
 * Threads: a store belongs to one session; no locking. */
#ifndef PM_STORE_H
#define PM_STORE_H
#include <stddef.h>

#define PM_STORE_MAX_BYTES (1024 * 1024)

typedef struct pm_store_entry {
    char *key, *value; /* owned */
    size_t key_len, value_len;
} pm_store_entry_t;

typedef struct pm_store {
    pm_store_entry_t *items;
    size_t n, bytes;
} pm_store_t;

/* Sets key to value (replacing). -1 if the store would exceed its bound. */
int pm_store_put(pm_store_t *s, const char *key, size_t key_len, const char *value, size_t value_len);
/* The value of key, or NULL. */
const char *pm_store_get(const pm_store_t *s, const char *key, size_t key_len, size_t *value_len);
void pm_store_clear(pm_store_t *s);

#endif
