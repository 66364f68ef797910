/* log: one line per event on stderr, "[RFC 1123 date GMT][level]: message".
 * Safe from any thread. Control characters in the message are escaped so that
 * MTA data or script output cannot forge log lines. */
#ifndef PM_LOG_H
#define PM_LOG_H

typedef enum { PM_LOG_DEBUG, PM_LOG_INFO, PM_LOG_NOTICE, PM_LOG_WARN, PM_LOG_ERROR } pm_log_level_t;

void pm_log_set_level(pm_log_level_t level);
int pm_log_enabled(pm_log_level_t level);
/* Name <-> level ("debug", "info", "notice", "warn", "error"); -1 if unknown. */
int pm_log_level_from_name(const char *name);
const char *pm_log_level_name(pm_log_level_t level);

void pm_log(pm_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define pm_debug(...) pm_log(PM_LOG_DEBUG, __VA_ARGS__)
#define pm_info(...) pm_log(PM_LOG_INFO, __VA_ARGS__)
#define pm_notice(...) pm_log(PM_LOG_NOTICE, __VA_ARGS__)
#define pm_warn(...) pm_log(PM_LOG_WARN, __VA_ARGS__)
#define pm_error(...) pm_log(PM_LOG_ERROR, __VA_ARGS__)

#endif
