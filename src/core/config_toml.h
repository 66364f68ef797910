/* config_toml: the only C++ unit. Parses a TOML file with libtomlplusplus and
 * returns a plain C tree that keeps each value's line number, so config.c can
 * name file:line in its errors. No C++ type crosses this header.
 * Threads: any; each call is independent (used by config.c only). */
#ifndef PM_CONFIG_TOML_H
#define PM_CONFIG_TOML_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    PM_TOML_TABLE,
    PM_TOML_ARRAY,
    PM_TOML_STRING,
    PM_TOML_INTEGER,
    PM_TOML_FLOAT,
    PM_TOML_BOOLEAN,
    PM_TOML_DATETIME, /* date, time or date-time: kept only for its type name */
} pm_toml_type_t;

typedef struct pm_toml_node {
    pm_toml_type_t type;
    char *key;  /* key in the parent table; NULL for array elements */
    int line;   /* 1-based line of the value (of the key, for tables) */
    char *str;  /* PM_TOML_STRING: NUL-terminated copy */
    long long integer;
    double number;
    int boolean;
    struct pm_toml_node *items; /* TABLE: members (sorted by key); ARRAY: elements in order */
    size_t n_items;
} pm_toml_node_t;

/* Parses path. On success returns the root table; on failure returns NULL and
 * writes "LINE:COLUMN: description" into err (line 0 if the file could not be read). */
pm_toml_node_t *pm_toml_parse_file(const char *path, char *err, size_t errlen);
/* Same, from a buffer (for tests and fuzzing). */
pm_toml_node_t *pm_toml_parse_string(const char *text, size_t len, char *err, size_t errlen);
void pm_toml_free(pm_toml_node_t *root);
/* "table", "array", "string", "integer", "float", "boolean", "datetime" */
const char *pm_toml_type_name(pm_toml_type_t type);

#ifdef __cplusplus
}
#endif
#endif
