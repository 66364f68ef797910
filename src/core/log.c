/* log: leveled, thread-safe logging (see log.h). The text format on stderr
 * and files is the original pmilter's, fields appended as key=value:
 *   [Thu, 03 Nov 2016 15:38:11 GMT][notice]: pmilter/0.1.0 starting
 * JSON is one object per line: {"time":..,"level":..,"msg":.., fields...}.
 * Each line is built in a local buffer and handed over in one write(2),
 * syslog(3) or sd_journal_sendv(3) call, so lines from concurrent sessions
 * never interleave. A line is at most LINE_MAX_BYTES; longer values are cut
 * and the line stays well-formed. */
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <paths.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#define SD_JOURNAL_SUPPRESS_LOCATION /* CODE_FILE=log.c on every entry would say nothing */
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 8192
#define MSG_MAX_BYTES 4096
#define RESERVE 16 /* always left for closing a JSON string, list and object, and '\n' */

/* Set by main and by the reload thread, read by every worker: atomic, relaxed (a
 * line logged at the old level during a reload is fine, a torn read is not). */
static atomic_int min_level = PM_LOG_NOTICE;
static const char *const level_names[] = {"debug", "info", "notice", "warn", "error"};
static const int syslog_priority[] = {LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARNING, LOG_ERR};

/* Written once by pm_log_open before other threads start; read-only after. */
static enum { TO_STDERR, TO_SYSLOG, TO_JOURNAL, TO_FILE } target = TO_STDERR;
static int json_format, facility = LOG_MAIL;
static int out_fd = STDERR_FILENO; /* stderr or the file; the file keeps its number across reopens */
static char file_path[4096];

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

int pm_log_facility_from_name(const char *name)
{
    static const struct {
        const char *name;
        int facility;
    } facilities[] = {{"mail", LOG_MAIL},     {"daemon", LOG_DAEMON}, {"user", LOG_USER},     {"local0", LOG_LOCAL0},
                      {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
                      {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7}};
    for (size_t i = 0; i < sizeof facilities / sizeof facilities[0]; i++)
        if (strcmp(name, facilities[i].name) == 0)
            return facilities[i].facility;
    return -1;
}

int pm_log_target_valid(const char *t)
{
    if (strcmp(t, "stderr") == 0 || strcmp(t, "syslog") == 0 || strcmp(t, "journal") == 0)
        return 0;
    return strncmp(t, "file:", 5) == 0 && t[5] != '\0' ? 0 : -1;
}

static int open_file(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

int pm_log_open(const char *spec, int syslog_facility, int json, char *err, size_t errlen)
{
    json_format = json;
    facility = syslog_facility;
    if (spec == NULL || strcmp(spec, "stderr") == 0)
        return 0;
    /* syslog(3) and sd_journal_send(3) drop lines silently when their socket
     * is missing: refuse to start instead of losing every line. */
    const char *socket_path = strcmp(spec, "syslog") == 0    ? _PATH_LOG
                              : strcmp(spec, "journal") == 0 ? "/run/systemd/journal/socket"
                                                             : NULL;
    if (socket_path && access(socket_path, F_OK) != 0) {
        snprintf(err, errlen, "log_target %s: no log socket at %s (%s): is the %s running?", spec, socket_path,
                 strerror(errno), *spec == 's' ? "syslog daemon" : "systemd journal");
        return -1;
    }
    if (strcmp(spec, "syslog") == 0) {
        /* LOG_NDELAY: connect now, while /dev/log is reachable (before a chroot or privilege drop). */
        openlog("pmilter", LOG_PID | LOG_NDELAY, facility);
        target = TO_SYSLOG;
    } else if (strcmp(spec, "journal") == 0) {
        target = TO_JOURNAL;
    } else {
        snprintf(file_path, sizeof file_path, "%s", spec + 5); /* "file:" */
        int fd = open_file(file_path);
        if (fd < 0) {
            snprintf(err, errlen, "cannot open log file %s: %s", file_path, strerror(errno));
            return -1;
        }
        out_fd = fd;
        target = TO_FILE;
    }
    return 0;
}

void pm_log_reopen(void)
{
    if (target != TO_FILE)
        return;
    int fd = open_file(file_path);
    if (fd < 0) {
        pm_error("SIGUSR2: cannot reopen log file %s: %s; still writing to the old one", file_path, strerror(errno));
        return;
    }
    /* dup2 swaps the file under the same descriptor number, atomically for concurrent writers. */
    dup2(fd, out_fd);
    close(fd);
    pm_notice("SIGUSR2: reopened log file %s", file_path);
}

int pm_log_field_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 32 || name[0] < 'a' || name[0] > 'z')
        return 0;
    return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* --- building one line in a fixed buffer --- */

typedef struct {
    char buf[LINE_MAX_BYTES];
    size_t n;
    int full; /* something did not fit: no more content, only closing characters */
} line_t;

static void put(line_t *l, const char *s, size_t len)
{
    if (l->full || l->n + len > sizeof l->buf - RESERVE) {
        l->full = 1;
        return;
    }
    memcpy(l->buf + l->n, s, len);
    l->n += len;
}

static void puts_(line_t *l, const char *s)
{
    put(l, s, strlen(s));
}

/* Closing characters go into the reserve, so a cut line is still well-formed. */
static void put_closing(line_t *l, const char *s)
{
    size_t len = strlen(s);
    if (l->n + len <= sizeof l->buf) {
        memcpy(l->buf + l->n, s, len);
        l->n += len;
    }
}

/* Length of the valid UTF-8 sequence at p (NUL-terminated), 0 if invalid:
 * overlong forms, surrogates and code points past U+10FFFF are invalid. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned c = p[0], cp, min;
    size_t n;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, min = 0x10000;
    else
        return 0;
    cp = c & (0x3fu >> (n - 1));
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    return cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0 : n;
}

/* A JSON string: quotes, backslashes and control characters escaped, invalid
 * UTF-8 bytes replaced by U+FFFD (JSON text must be UTF-8). */
static void put_json_string(line_t *l, const char *s)
{
    if (l->full)
        return; /* callers never start a value once the line is full */
    put_closing(l, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p && !l->full;) {
        char esc[8];
        size_t len = utf8_len(p);
        if (*p == '"' || *p == '\\')
            put(l, (char[]){'\\', (char)*p}, 2);
        else if (*p == '\n')
            put(l, "\\n", 2);
        else if (*p == '\t')
            put(l, "\\t", 2);
        else if (*p == '\r')
            put(l, "\\r", 2);
        else if (*p < 0x20 || *p == 0x7f)
            put(l, esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", *p));
        else if (len == 0)
            put(l, "\\ufffd", 6);
        else
            put(l, (const char *)p, len);
        p += len ? len : 1;
    }
    put_closing(l, "\"");
}

/* Text: backslashes and control characters escaped as before; inside a
 * quoted value also '"'. Other bytes go out as they are. */
static void put_text(line_t *l, const char *s, int in_quotes)
{
    for (const unsigned char *p = (const unsigned char *)s; *p && !l->full; p++) {
        char esc[8];
        if (*p == '\\' || (in_quotes && *p == '"'))
            put(l, (char[]){'\\', (char)*p}, 2);
        else if (*p < 0x20 || *p == 0x7f)
            put(l, esc, (size_t)snprintf(esc, sizeof esc, "\\x%02x", *p));
        else
            put(l, (const char *)p, 1);
    }
}

static int needs_quotes(const char *s)
{
    return *s == '\0' || strpbrk(s, " \"=") != NULL;
}

static int field_present(const pm_log_field_t *f)
{
    return f->type != PM_LOG_STR || f->str != NULL;
}

static void put_text_field(line_t *l, const pm_log_field_t *f)
{
    char num[24];
    put(l, " ", 1);
    puts_(l, f->key);
    put(l, "=", 1);
    if (f->type == PM_LOG_INT) {
        put(l, num, (size_t)snprintf(num, sizeof num, "%lld", f->num));
    } else { /* a list is a,b,c; quoted as a whole when any item needs it */
        const char *const *items = f->type == PM_LOG_STR ? &f->str : f->list;
        size_t n = f->type == PM_LOG_STR ? 1 : f->n_list;
        int quoted = n == 0;
        for (size_t i = 0; i < n; i++)
            quoted |= needs_quotes(items[i]) || (n > 1 && strchr(items[i], ',') != NULL);
        if (quoted)
            put(l, "\"", 1);
        quoted &= !l->full; /* close only what was opened */
        for (size_t i = 0; i < n; i++) {
            if (i)
                put(l, ",", 1);
            put_text(l, items[i], quoted);
        }
        if (quoted)
            put_closing(l, "\"");
    }
}

static void put_json_field(line_t *l, const pm_log_field_t *f)
{
    char num[24];
    size_t before = l->n;
    put(l, ",", 1);
    put_json_string(l, f->key);
    put(l, ":", 1);
    if (l->full) { /* not even the key fits: leave the field out */
        l->n = before;
        return;
    }
    if (f->type == PM_LOG_INT) {
        put(l, num, (size_t)snprintf(num, sizeof num, "%lld", f->num));
    } else if (f->type == PM_LOG_STR) {
        put_json_string(l, f->str);
    } else {
        put_closing(l, "[");
        for (size_t i = 0; i < f->n_list; i++) {
            if (i)
                put(l, ",", 1); /* all or nothing: no dangling comma */
            if (l->full)
                break;
            put_json_string(l, f->list[i]);
        }
        put_closing(l, "]");
    }
}

/* "[Thu, 03 Nov 2016 15:38:11 GMT][notice]: " */
static void put_text_prefix(line_t *l, pm_log_level_t level, const struct timespec *now)
{
    struct tm tm;
    gmtime_r(&now->tv_sec, &tm);
    l->n += strftime(l->buf + l->n, sizeof l->buf - l->n, "[%a, %d %b %Y %H:%M:%S GMT]", &tm);
    put(l, "[", 1);
    puts_(l, level_names[level]);
    put(l, "]: ", 3);
}

/* {"time":"2016-11-03T15:38:11.123Z","level":"notice","msg":"..." */
static void put_json_head(line_t *l, pm_log_level_t level, const struct timespec *now, const char *msg)
{
    struct tm tm;
    char stamp[40];
    gmtime_r(&now->tv_sec, &tm);
    size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp + n, sizeof stamp - n, ".%03ldZ", now->tv_nsec / 1000000);
    puts_(l, "{\"time\":\"");
    puts_(l, stamp);
    puts_(l, "\",\"level\":\"");
    puts_(l, level_names[level]);
    puts_(l, "\",\"msg\":");
    put_json_string(l, msg);
}

/* The line without a trailing newline: what syslog and the journal's MESSAGE get,
 * and (with the text prefix) stderr and the file. */
static void build_line(line_t *l, pm_log_level_t level, const char *msg, const pm_log_field_t *fields, size_t n,
                       int with_prefix)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (json_format) {
        put_json_head(l, level, &now, msg);
        for (size_t i = 0; i < n; i++)
            if (field_present(&fields[i]))
                put_json_field(l, &fields[i]);
        put_closing(l, "}");
        return;
    }
    if (with_prefix)
        put_text_prefix(l, level, &now);
    put_text(l, msg, 0); /* unquoted, as pmilter always wrote it */
    for (size_t i = 0; i < n; i++)
        if (field_present(&fields[i]))
            put_text_field(l, &fields[i]);
}

/* The journal's own fields: PMILTER_<KEY>=raw value (the journal keeps any bytes). */
static void send_journal(pm_log_level_t level, const char *line, const pm_log_field_t *fields, size_t n)
{
    struct iovec iov[PM_LOG_FIELDS_MAX + 4];
    char head[3][64], values[LINE_MAX_BYTES];
    size_t used = 0, k = 0;
    iov[k++] = (struct iovec){(void *)line, strlen(line)};
    snprintf(head[0], sizeof head[0], "PRIORITY=%d", syslog_priority[level]);
    snprintf(head[1], sizeof head[1], "SYSLOG_FACILITY=%d", facility >> 3);
    snprintf(head[2], sizeof head[2], "SYSLOG_IDENTIFIER=pmilter");
    for (int i = 0; i < 3; i++)
        iov[k++] = (struct iovec){head[i], strlen(head[i])};
    for (size_t i = 0; i < n && k < sizeof iov / sizeof iov[0] && used < sizeof values; i++) {
        const pm_log_field_t *f = &fields[i];
        if (!field_present(f))
            continue;
        char *start = values + used;
        size_t room = sizeof values - used, len = (size_t)snprintf(start, room, "PMILTER_");
        for (const char *c = f->key; *c && len + 1 < room; c++)
            start[len++] = (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
        if (f->type == PM_LOG_INT)
            len += (size_t)snprintf(start + len, room - len, "=%lld", f->num);
        else if (f->type == PM_LOG_STR)
            len += (size_t)snprintf(start + len, room - len, "=%s", f->str);
        else
            for (size_t j = 0; j == 0 || (j < f->n_list && len < room); j++) /* "=" even for an empty list */
                len += (size_t)snprintf(start + len, room - len, "%s%s", j ? "," : "=", j < f->n_list ? f->list[j] : "");
        len = len < room ? len : room - 1;
        iov[k++] = (struct iovec){start, len};
        used += len + 1;
    }
    if (sd_journal_sendv(iov, (int)k) < 0) { /* refused (too big, ...): the line goes to stderr, never lost */
        ssize_t ignored = write(STDERR_FILENO, line + 8, strlen(line + 8));
        ignored = write(STDERR_FILENO, "\n", 1);
        (void)ignored;
    }
}

static void emit(pm_log_level_t level, const char *msg, const pm_log_field_t *fields, size_t n)
{
    line_t l;
    l.n = 0;
    l.full = 0;
    if (n > PM_LOG_FIELDS_MAX)
        n = PM_LOG_FIELDS_MAX;
    if (target == TO_JOURNAL) {
        puts_(&l, "MESSAGE=");
        build_line(&l, level, msg, fields, n, 0);
        l.buf[l.n < sizeof l.buf ? l.n : sizeof l.buf - 1] = '\0';
        send_journal(level, l.buf, fields, n);
    } else if (target == TO_SYSLOG) {
        build_line(&l, level, msg, fields, n, 0);
        l.buf[l.n < sizeof l.buf ? l.n : sizeof l.buf - 1] = '\0';
        syslog(syslog_priority[level], "%s", l.buf);
    } else {
        build_line(&l, level, msg, fields, n, 1);
        if (l.n >= sizeof l.buf)
            l.n = sizeof l.buf - 1;
        l.buf[l.n++] = '\n';
        ssize_t ignored = write(out_fd, l.buf, l.n);
        (void)ignored;
    }
}

static void vlog(pm_log_level_t level, const pm_log_field_t *fields, size_t n_fields, const char *fmt, va_list ap)
{
    char msg[MSG_MAX_BYTES];
    vsnprintf(msg, sizeof msg, fmt, ap);
    emit(level, msg, fields, n_fields);
}

void pm_log_fields(pm_log_level_t level, const pm_log_field_t *fields, size_t n_fields, const char *fmt, ...)
{
    if (!pm_log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, fields, n_fields, fmt, ap);
    va_end(ap);
}

void pm_log(pm_log_level_t level, const char *fmt, ...)
{
    if (!pm_log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, NULL, 0, fmt, ap);
    va_end(ap);
}
