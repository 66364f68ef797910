/* log: leveled, thread-safe logging to stderr in the original pmilter format:
 *   [Thu, 03 Nov 2016 15:38:11 GMT][notice]: pmilter/0.1.0 starting
 * Each line is built in a local buffer and written with one write(2), so
 * lines from concurrent sessions never interleave. */
#include "core/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Set by main and by the reload thread, read by every worker: atomic, relaxed (a
 * line logged at the old level during a reload is fine, a torn read is not). */
static atomic_int min_level = PM_LOG_NOTICE;
static const char *const level_names[] = {"debug", "info", "notice", "warn", "error"};

void pm_log_set_level(pm_log_level_t level)
{
    atomic_store_explicit(&min_level, (int)level, memory_order_relaxed);
}

int pm_log_enabled(pm_log_level_t level)
{
    return (int)level >= atomic_load_explicit(&min_level, memory_order_relaxed);
}

int pm_log_level_from_name(const char *name)
{
    for (int i = 0; i < (int)(sizeof level_names / sizeof level_names[0]); i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    if (strcmp(name, "warning") == 0)
        return PM_LOG_WARN;
    return -1;
}

const char *pm_log_level_name(pm_log_level_t level)
{
    return level_names[level];
}

void pm_log(pm_log_level_t level, const char *fmt, ...)
{
    if (!pm_log_enabled(level))
        return;
    char msg[2048], line[4096 + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    size_t n = strftime(line, sizeof line, "[%a, %d %b %Y %H:%M:%S GMT]", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, "[%s]: ", level_names[level]);
    /* Escape control bytes: MTA data and script text end up in messages. */
    for (const unsigned char *p = (const unsigned char *)msg; *p && n < sizeof line - 6; p++) {
        if (*p == '\\' || *p < 0x20 || *p == 0x7f)
            n += (size_t)snprintf(line + n, sizeof line - n, *p == '\\' ? "\\\\" : "\\x%02x", *p);
        else
            line[n++] = (char)*p;
    }
    line[n++] = '\n';
    ssize_t ignored = write(STDERR_FILENO, line, n);
    (void)ignored;
}
