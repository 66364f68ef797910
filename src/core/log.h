/* log: one line per event, to the target chosen by [server] log_target
 * (stderr, syslog, the systemd journal or a file) in log_format text or json
 * (docs/logging.md). A line is a message plus optional fields (key = value):
 * text appends " key=value", JSON adds keys, the journal adds PMILTER_KEY
 * fields. Control characters and invalid UTF-8 are escaped so that MTA data
 * or script output cannot forge log lines.
 * Threads: pm_log* is safe from any thread; pm_log_open runs once in main
 * before other threads log, pm_log_reopen from the signal thread (SIGUSR2).
 * Diagnostics: pm_log_open fills err; a failed reopen is logged to the old file. */
#ifndef PM_LOG_H
#define PM_LOG_H
#include <stddef.h>

typedef enum { PM_LOG_DEBUG, PM_LOG_INFO, PM_LOG_NOTICE, PM_LOG_WARN, PM_LOG_ERROR } pm_log_level_t;

void pm_log_set_level(pm_log_level_t level);
int pm_log_enabled(pm_log_level_t level);
/* Name <-> level ("debug", "info", "notice", "warn", "error"); -1 if unknown. */
int pm_log_level_from_name(const char *name);
const char *pm_log_level_name(pm_log_level_t level);
/* syslog facility name ("mail", "daemon", "local0".."local7", ...) -> LOG_*; -1 if unknown. */
int pm_log_facility_from_name(const char *name);
/* A log_target value: "stderr", "syslog", "journal" or "file:PATH"; 0 if valid. */
int pm_log_target_valid(const char *target);

/* Switches from stderr to target (log_target, PATH already resolved) with the
 * syslog facility (LOG_MAIL...) and format (json != 0). Returns -1 with err
 * filled if a file cannot be opened or the syslog or journal socket is
 * missing (both would drop every line silently); logging stays on stderr then. */
int pm_log_open(const char *target, int facility, int json, char *err, size_t errlen);
/* File target: opens the path again (after logrotate moved it). No-op otherwise. */
void pm_log_reopen(void);

/* One field of a line. Fields whose value is absent (PM_LOG_STR with NULL)
 * are left out. Keys are [a-z][a-z0-9_]*, checked by pm_log_field_name_valid. */
typedef enum { PM_LOG_STR, PM_LOG_INT, PM_LOG_LIST } pm_log_field_type_t;
typedef struct pm_log_field {
    const char *key;
    pm_log_field_type_t type;
    const char *str;         /* PM_LOG_STR; NUL-terminated, any bytes */
    long long num;           /* PM_LOG_INT */
    const char *const *list; /* PM_LOG_LIST: n_list strings */
    size_t n_list;
} pm_log_field_t;
#define PM_LOG_FIELDS_MAX 40 /* fields of one line; more are dropped */

/* 1 if name may be a field key: 1-32 of [a-z0-9_], starting with a letter. */
int pm_log_field_name_valid(const char *name);

void pm_log(pm_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pm_log_fields(pm_log_level_t level, const pm_log_field_t *fields, size_t n_fields, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define pm_debug(...) pm_log(PM_LOG_DEBUG, __VA_ARGS__)
#define pm_info(...) pm_log(PM_LOG_INFO, __VA_ARGS__)
#define pm_notice(...) pm_log(PM_LOG_NOTICE, __VA_ARGS__)
#define pm_warn(...) pm_log(PM_LOG_WARN, __VA_ARGS__)
#define pm_error(...) pm_log(PM_LOG_ERROR, __VA_ARGS__)

#endif
