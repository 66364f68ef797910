/* config: load pmilter.conf (TOML) into an immutable pm_config_t.
 *
 * Every [server] key is one row of server_keys[] (name, type, field, default,
 * bounds). Handler keys come from phase.c. Keys of the original pmilter
 * (name, workers, backlog, a flat [handler] table, top-level title) load
 * unchanged. Unknown keys are warnings, never silent; anything else wrong is
 * an error naming "file:line: key: why". This module reports; main decides. */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <libmilter/mfapi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/dkim.h"
#include "core/alloc.h"
#include "core/config_toml.h"
#include "core/log.h"

typedef enum { K_INT, K_BOOL, K_STRING, K_LOG_LEVEL, K_VERDICT, K_LISTEN, K_MACROS, K_MODE, K_KV_BACKEND, K_PATH, K_DNS_RESOLVER, K_READABLE_FILE,
               K_LOG_TARGET, K_LOG_FACILITY, K_LOG_FORMAT } key_kind_t;

const char *const pm_macro_stage_names[PM_MACRO_STAGE_COUNT] = {"connect", "helo", "envfrom", "envrcpt",
                                                                "data",    "eoh",  "eom"};

typedef struct {
    const char *name;
    key_kind_t kind;
    size_t offset; /* of the int or char* field in pm_config_t */
    long long min, max;
} key_spec_t;

#define F(field) offsetof(pm_config_t, field)
static const key_spec_t server_keys[] = {
    {"listen", K_LISTEN, F(listen), 0, 0},
    {"timeout", K_INT, F(timeout), 1, 86400 * 7},
    {"log_level", K_LOG_LEVEL, F(log_level), 0, 0},
    {"log_target", K_LOG_TARGET, F(log_target), 0, 0},
    {"log_facility", K_LOG_FACILITY, F(log_facility), 0, 0},
    {"log_format", K_LOG_FORMAT, F(log_json), 0, 0},
    {"log_envelope", K_BOOL, F(log_envelope), 0, 1},
    {"mruby_handler", K_BOOL, F(mruby_handler), 0, 1},
    {"listen_backlog", K_INT, F(listen_backlog), 1, 65535},
    {"backlog", K_INT, F(listen_backlog), 1, 65535}, /* the original's name for listen_backlog */
    {"debug", K_INT, F(debug), 0, 6},
    {"min_worker", K_INT, F(min_worker), 1, 4096},
    {"workers", K_INT, F(min_worker), 1, 4096}, /* the original's name for min_worker */
    {"max_worker", K_INT, F(max_worker), 1, 4096},
    {"handler_error", K_VERDICT, F(handler_error), 0, 0},
    {"name", K_STRING, F(name), 0, 0},
    {"max_body_size", K_INT, F(max_body_size), 0, 1 << 30},
    {"max_headers", K_INT, F(max_headers), 0, 100000},
    {"max_header_bytes", K_INT, F(max_header_bytes), 0, 1 << 30},
    {"max_input_memory", K_INT, F(max_input_memory), 1, 1 << 20},
    {"max_recipients", K_INT, F(max_recipients), 0, 100000},
    {"macros", K_MACROS, F(macros), 0, 0},
    {"max_sessions", K_INT, F(max_sessions), 1, 1000000},
    {"handler_timeout", K_INT, F(handler_timeout), 1, 3600},
    {"shutdown_grace", K_INT, F(shutdown_grace), 0, 3600},
    {"handler_memory", K_INT, F(handler_memory), 8, 65536},
    {"user", K_STRING, F(user), 0, 0},
    {"group", K_STRING, F(group), 0, 0},
    {"listen_owner", K_STRING, F(listen_owner), 0, 0},
    {"listen_group", K_STRING, F(listen_group), 0, 0},
    {"listen_mode", K_MODE, F(listen_mode), 0, 0},
};

/* [mime]: Session#mime's limits (docs/mime.md). */
static const key_spec_t mime_keys[] = {
    {"max_depth", K_INT, F(mime_max_depth), 1, 1000},
    {"max_parts", K_INT, F(mime_max_parts), 1, 1000000},
    {"max_decoded_size", K_INT, F(mime_max_decoded_size), 1, 1 << 30},
};

/* [kv]: Pmilter::KV's backend (docs/kv.md). */
static const key_spec_t kv_keys[] = {
    {"backend", K_KV_BACKEND, F(kv_redis), 0, 0},
    {"memory_limit", K_INT, F(kv_memory_limit), 1, 1 << 20},
    {"url", K_STRING, F(kv_url), 0, 0},
    {"password", K_STRING, F(kv_password), 0, 0},
    {"prefix", K_STRING, F(kv_prefix), 0, 0},
    {"timeout_ms", K_INT, F(kv_timeout_ms), 1, 600000},
    {"on_error", K_VERDICT, F(kv_on_error), 0, 0},
    {"persist", K_PATH, F(kv_persist), 0, 0},
    {"persist_interval", K_INT, F(kv_persist_interval), 0, 86400},
};

/* [dns]: the resolver (docs/dns.md); made once at start, kept across reloads. */
static const key_spec_t dns_keys[] = {
    {"resolver", K_DNS_RESOLVER, F(dns_resolver), 0, 0},
    {"timeout_ms", K_INT, F(dns_timeout_ms), 1, 600000},
    {"cache_size", K_INT, F(dns_cache_size), 1, 4096},
    {"hosts_file", K_READABLE_FILE, F(dns_hosts_file), 0, 0},
};

/* [metrics]: the Prometheus endpoint (docs/metrics.md). */
static const key_spec_t metrics_keys[] = {
    {"listen", K_STRING, F(metrics_listen), 0, 0},
    {"max_series", K_INT, F(metrics_max_series), 1, 100000},
};
#undef F

typedef struct {
    const char *label; /* file name in messages */
    const char *dir;
    char *err;
    size_t errlen;
    pm_config_t *cfg;
} loader_t;

static int fail(loader_t *ld, int line, const char *key, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(loader_t *ld, int line, const char *key, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(ld->err, ld->errlen, "%s:%d: %s: %s", ld->label, line, key, why);
    return -1;
}

static void warn(loader_t *ld, int line, const char *key, const char *why)
{
    pm_config_t *cfg = ld->cfg;
    char msg[512];
    snprintf(msg, sizeof msg, "%s:%d: %s: %s", ld->label, line, key, why);
    cfg->warnings = pm_realloc(cfg->warnings, (cfg->n_warnings + 1) * sizeof *cfg->warnings);
    cfg->warnings[cfg->n_warnings++] = pm_strdup(msg);
}

/* Relative paths in the config are relative to the config file's directory. */
static char *resolve_path(const loader_t *ld, const char *path)
{
    if (path[0] == '/' || ld->dir == NULL || strcmp(ld->dir, ".") == 0)
        return pm_strdup(path);
    size_t n = strlen(ld->dir) + strlen(path) + 2;
    char *out = pm_malloc(n);
    snprintf(out, n, "%s/%s", ld->dir, path);
    return out;
}

int pm_config_verdict_from_name(const char *name)
{
    static const struct {
        const char *name;
        int smfis;
    } verdicts[] = {{"continue", SMFIS_CONTINUE}, {"accept", SMFIS_ACCEPT},   {"reject", SMFIS_REJECT},
                    {"tempfail", SMFIS_TEMPFAIL}, {"discard", SMFIS_DISCARD}};
    for (size_t i = 0; i < sizeof verdicts / sizeof verdicts[0]; i++)
        if (strcmp(name, verdicts[i].name) == 0)
            return verdicts[i].smfis;
    return -1;
}

const char *pm_config_verdict_name(int smfis)
{
    switch (smfis) {
    case SMFIS_CONTINUE: return "continue";
    case SMFIS_ACCEPT: return "accept";
    case SMFIS_REJECT: return "reject";
    case SMFIS_TEMPFAIL: return "tempfail";
    case SMFIS_DISCARD: return "discard";
    case SMFIS_SKIP: return "skip";
    case SMFIS_NOREPLY: return "noreply";
    default: return "unknown";
    }
}

static int parse_port(const char *s, int *port)
{
    if (*s == '\0' || strlen(s) > 5)
        return -1;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p))
            return -1;
    *port = atoi(s);
    return *port >= 1 && *port <= 65535 ? 0 : -1;
}

/* Accepted forms: a bare path (unix socket), unix:/path, local:/path,
 * inet:PORT[@HOST], inet6:PORT[@HOST], and the original README's
 * inet:HOST:PORT and bare HOST:PORT (HOST an IPv4 address or localhost). */
static int parse_listen(loader_t *ld, int line, const char *value)
{
    pm_config_t *cfg = ld->cfg;
    const char *key = "server.listen";
    const char *rest;
    if (*value == '\0')
        return fail(ld, line, key, "empty");
    if (strncmp(value, "unix:", 5) == 0 || strncmp(value, "local:", 6) == 0) {
        rest = strchr(value, ':') + 1;
        if (*rest == '\0')
            return fail(ld, line, key, "\"%s\": missing socket path", value);
        cfg->listen_family = PM_LISTEN_UNIX;
        cfg->listen_path = resolve_path(ld, rest);
        return 0;
    }
    int inet6 = strncmp(value, "inet6:", 6) == 0;
    if (inet6 || strncmp(value, "inet:", 5) == 0) {
        rest = value + (inet6 ? 6 : 5);
        char *copy = pm_strdup(rest), *at = strchr(copy, '@'), *port = copy, *host = NULL;
        if (at) {
            *at = '\0';
            host = at + 1;
        } else if (!inet6 && strrchr(copy, ':')) { /* inet:HOST:PORT */
            char *colon = strrchr(copy, ':');
            *colon = '\0';
            host = copy;
            port = colon + 1;
        }
        int bad_port = parse_port(port, &cfg->listen_port);
        if (bad_port || (host && *host == '\0')) {
            fail(ld, line, key, "\"%s\": expected %s:PORT@HOST with PORT 1-65535", value, inet6 ? "inet6" : "inet");
            free(copy);
            return -1;
        }
        cfg->listen_family = inet6 ? PM_LISTEN_INET6 : PM_LISTEN_INET;
        cfg->listen_host = host ? pm_strdup(host) : NULL;
        free(copy);
        return 0;
    }
    /* Bare HOST:PORT, as the original's "hoge.sock or ipaddress:port" comment allowed. */
    const char *colon = strrchr(value, ':');
    if (colon && strchr(value, '/') == NULL) {
        size_t hl = (size_t)(colon - value);
        int ipv4 = hl > 0 && strspn(value, "0123456789.") == hl;
        if (ipv4 || (hl == 9 && strncmp(value, "localhost", 9) == 0)) {
            if (parse_port(colon + 1, &cfg->listen_port))
                return fail(ld, line, key, "\"%s\": bad port (1-65535)", value);
            cfg->listen_family = PM_LISTEN_INET;
            cfg->listen_host = pm_strndup(value, hl);
            return 0;
        }
        if (strncmp(value, "fd:", 3) == 0 || strncmp(value, "inet", 4) == 0)
            return fail(ld, line, key, "\"%s\": unknown socket type", value);
    }
    cfg->listen_family = PM_LISTEN_UNIX;
    cfg->listen_path = resolve_path(ld, value);
    return 0;
}

/* macros.<stage> = ["{name}", ...]: one table of arrays of macro names. */
static int set_macros(loader_t *ld, const pm_toml_node_t *n)
{
    if (n->type != PM_TOML_TABLE)
        return fail(ld, n->line, "server.macros", "expected a table (macros.eom = [\"{name}\"]), got %s",
                    pm_toml_type_name(n->type));
    for (size_t i = 0; i < n->n_items; i++) {
        const pm_toml_node_t *list = &n->items[i];
        char key[128];
        snprintf(key, sizeof key, "server.macros.%s", list->key);
        int stage = -1;
        for (int k = 0; k < PM_MACRO_STAGE_COUNT; k++)
            if (strcmp(list->key, pm_macro_stage_names[k]) == 0)
                stage = k;
        if (stage < 0)
            return fail(ld, list->line, key, "unknown stage (connect, helo, envfrom, envrcpt, data, eoh, eom)");
        if (list->type != PM_TOML_ARRAY)
            return fail(ld, list->line, key, "expected an array of macro names, got %s", pm_toml_type_name(list->type));
        char joined[1024] = "";
        for (size_t j = 0; j < list->n_items; j++) {
            const pm_toml_node_t *m = &list->items[j];
            if (m->type != PM_TOML_STRING || m->str[0] == '\0' || strpbrk(m->str, " \t\r\n"))
                return fail(ld, m->line, key, "macro names are non-empty strings without spaces, e.g. \"{auth_type}\"");
            if (strlen(joined) + strlen(m->str) + 2 > sizeof joined)
                return fail(ld, m->line, key, "too many macro names");
            if (j)
                strcat(joined, " ");
            strcat(joined, m->str);
        }
        free(ld->cfg->macros[stage]);
        ld->cfg->macros[stage] = pm_strdup(joined);
    }
    return 0;
}

static char *readable_file(loader_t *ld, int line, const char *key, const char *what, const char *path);
static int set_dns_resolver(loader_t *ld, const pm_toml_node_t *n);

static int set_key(loader_t *ld, const char *section, const key_spec_t *spec, const pm_toml_node_t *n)
{
    if (spec->kind == K_MACROS)
        return set_macros(ld, n); /* a table, not a scalar */
    if (spec->kind == K_DNS_RESOLVER)
        return set_dns_resolver(ld, n); /* a string or an array */
    char key[64];
    snprintf(key, sizeof key, "%s.%s", section, spec->name);
    char *field = (char *)ld->cfg + spec->offset;
    pm_toml_type_t want = spec->kind == K_INT    ? PM_TOML_INTEGER
                          : spec->kind == K_BOOL ? PM_TOML_BOOLEAN
                                                 : PM_TOML_STRING;
    /* The original pmilter.conf has `debug = 0`; accept booleans there as 0/1 too. */
    if (spec->kind == K_INT && n->type == PM_TOML_BOOLEAN && strcmp(spec->name, "debug") == 0) {
        *(int *)field = n->boolean;
        return 0;
    }
    if (n->type != want)
        return fail(ld, n->line, key, "expected %s, got %s", pm_toml_type_name(want), pm_toml_type_name(n->type));
    switch (spec->kind) {
    case K_INT:
        if (n->integer < spec->min || n->integer > spec->max)
            return fail(ld, n->line, key, "%lld is out of range (%lld-%lld)", n->integer, spec->min, spec->max);
        *(int *)field = (int)n->integer;
        return 0;
    case K_BOOL:
        *(int *)field = n->boolean;
        return 0;
    case K_STRING:
        free(*(char **)field);
        *(char **)field = pm_strdup(n->str);
        return 0;
    case K_LOG_LEVEL: {
        int level = pm_log_level_from_name(n->str);
        if (level < 0)
            return fail(ld, n->line, key, "\"%s\": expected debug, info, notice, warn or error", n->str);
        *(int *)field = level;
        return 0;
    }
    case K_LOG_TARGET: /* docs/logging.md */
        if (pm_log_target_valid(n->str))
            return fail(ld, n->line, key, "\"%s\": expected stderr, syslog, journal or file:/path", n->str);
        free(*(char **)field);
        if (strncmp(n->str, "file:", 5) == 0) {
            char *path = resolve_path(ld, n->str + 5);
            size_t len = strlen(path) + 6;
            *(char **)field = pm_malloc(len);
            snprintf(*(char **)field, len, "file:%s", path);
            free(path);
        } else {
            *(char **)field = pm_strdup(n->str);
        }
        return 0;
    case K_LOG_FACILITY:
        if ((*(int *)field = pm_log_facility_from_name(n->str)) < 0)
            return fail(ld, n->line, key, "\"%s\": expected mail, daemon, user or local0-local7", n->str);
        return 0;
    case K_LOG_FORMAT:
        if (strcmp(n->str, "text") != 0 && strcmp(n->str, "json") != 0)
            return fail(ld, n->line, key, "\"%s\": expected text or json", n->str);
        *(int *)field = strcmp(n->str, "json") == 0;
        return 0;
    case K_VERDICT: {
        int v = pm_config_verdict_from_name(n->str);
        if (v < 0)
            return fail(ld, n->line, key, "\"%s\": expected tempfail, continue, accept, reject or discard", n->str);
        *(int *)field = v;
        return 0;
    }
    case K_MACROS:
    case K_DNS_RESOLVER:
        break; /* handled above */
    case K_READABLE_FILE: { /* a file pmilter reads: it must exist now */
        char *path = readable_file(ld, n->line, key, spec->name, n->str);
        if (path == NULL)
            return -1;
        free(*(char **)field);
        *(char **)field = path;
        return 0;
    }
    case K_PATH: /* a file pmilter writes: resolved against the config's directory */
        if (n->str[0] == '\0')
            return fail(ld, n->line, key, "empty path");
        free(*(char **)field);
        *(char **)field = resolve_path(ld, n->str);
        return 0;
    case K_KV_BACKEND:
        if (strcmp(n->str, "memory") != 0 && strcmp(n->str, "redis") != 0)
            return fail(ld, n->line, key, "\"%s\": expected memory or redis", n->str);
        *(int *)field = strcmp(n->str, "redis") == 0;
        return 0;
    case K_MODE: {
        /* "0660": octal permission bits, as chmod(1) takes them */
        char *end;
        long mode = strtol(n->str, &end, 8);
        if (n->str[0] == '\0' || *end != '\0' || mode < 0 || mode > 07777)
            return fail(ld, n->line, key, "\"%s\": expected octal permission bits such as \"0660\"", n->str);
        *(int *)field = (int)mode;
        return 0;
    }
    case K_LISTEN:
        free(ld->cfg->listen);
        ld->cfg->listen = pm_strdup(n->str);
        return parse_listen(ld, n->line, n->str);
    }
    return 0;
}

/* Every key of one table ([server], [kv]) through its key table. */
static int load_section(loader_t *ld, const pm_toml_node_t *table, const char *section, const key_spec_t *keys,
                        size_t n_keys)
{
    for (size_t i = 0; i < table->n_items; i++) {
        const pm_toml_node_t *n = &table->items[i];
        const key_spec_t *spec = NULL;
        for (size_t k = 0; k < n_keys; k++)
            if (strcmp(n->key, keys[k].name) == 0)
                spec = &keys[k];
        char key[128];
        snprintf(key, sizeof key, "%s.%s", section, n->key);
        if (spec == NULL) {
            warn(ld, n->line, key, "unknown key, ignored");
            continue;
        }
        if (set_key(ld, section, spec, n))
            return -1;
    }
    return 0;
}

/* A readable file at path (resolved); NULL and an error otherwise. */
static char *readable_file(loader_t *ld, int line, const char *key, const char *what, const char *path)
{
    if (path[0] == '\0') {
        fail(ld, line, key, "empty %s path", what);
        return NULL;
    }
    char *resolved = resolve_path(ld, path);
    if (access(resolved, R_OK) != 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "cannot read %s %s: %s", what, resolved, strerror(errno));
        free(resolved);
        fail(ld, line, key, "%s", msg);
        return NULL;
    }
    return resolved;
}

/* mruby_library = ["lib/a.rb", ...]: shared code, since mruby has no require. */
static int set_library(loader_t *ld, const char *key, const pm_toml_node_t *n)
{
    if (n->type != PM_TOML_ARRAY)
        return fail(ld, n->line, key, "expected an array of file names, got %s", pm_toml_type_name(n->type));
    pm_config_t *cfg = ld->cfg;
    for (size_t i = 0; i < n->n_items; i++) {
        const pm_toml_node_t *item = &n->items[i];
        if (item->type != PM_TOML_STRING)
            return fail(ld, item->line, key, "expected file names (strings), got %s", pm_toml_type_name(item->type));
        char *path = readable_file(ld, item->line, key, "library", item->str);
        if (path == NULL)
            return -1;
        cfg->library = pm_realloc(cfg->library, (cfg->n_library + 1) * sizeof *cfg->library);
        cfg->library[cfg->n_library++] = path;
    }
    return 0;
}

static int set_handler(loader_t *ld, const char *section, const pm_toml_node_t *n)
{
    char key[160];
    snprintf(key, sizeof key, "%s.%s", section, n->key);
    if (strcmp(n->key, "mruby_library") == 0)
        return set_library(ld, key, n);
    int phase = pm_phase_from_key(n->key);
    if (phase < 0) {
        warn(ld, n->line, key, "unknown key, ignored");
        return 0;
    }
    if (n->type != PM_TOML_STRING)
        return fail(ld, n->line, key, "expected string (a handler file), got %s", pm_toml_type_name(n->type));
    pm_config_t *cfg = ld->cfg;
    char *path = readable_file(ld, n->line, key, "handler", n->str);
    if (path == NULL)
        return -1;
    free(cfg->handler[phase]);
    free(cfg->handler_src[phase]);
    cfg->handler[phase] = path;
    char src[512];
    snprintf(src, sizeof src, "%s:%d", ld->label, n->line);
    cfg->handler_src[phase] = pm_strdup(src);
    return 0;
}

/* [handler] holds [handler.config] and [handler.session]; the original's
 * older layout put the mruby_*_handler keys directly in [handler]. */
static int load_handlers(loader_t *ld, const pm_toml_node_t *handler)
{
    for (size_t i = 0; i < handler->n_items; i++) {
        const pm_toml_node_t *n = &handler->items[i];
        if (n->type == PM_TOML_TABLE && (strcmp(n->key, "config") == 0 || strcmp(n->key, "session") == 0)) {
            char section[32];
            snprintf(section, sizeof section, "handler.%s", n->key);
            for (size_t j = 0; j < n->n_items; j++)
                if (set_handler(ld, section, &n->items[j]))
                    return -1;
        } else if (set_handler(ld, "handler", n)) {
            return -1;
        }
    }
    return 0;
}

/* resolver = "system" | "recursive" | ["127.0.0.1@5353", "::1"] */
static int set_dns_resolver(loader_t *ld, const pm_toml_node_t *n)
{
    const char *usage = "expected \"system\", \"recursive\" or a list of forwarders such as [\"127.0.0.1@5353\"]";
    char joined[1024] = "";
    if (n->type == PM_TOML_STRING && (strcmp(n->str, "system") == 0 || strcmp(n->str, "recursive") == 0)) {
        snprintf(joined, sizeof joined, "%s", n->str);
    } else if (n->type == PM_TOML_ARRAY && n->n_items > 0) {
        for (size_t i = 0; i < n->n_items; i++) {
            const pm_toml_node_t *f = &n->items[i];
            if (f->type != PM_TOML_STRING || f->str[0] == '\0' || strpbrk(f->str, " \t") ||
                strlen(joined) + strlen(f->str) + 2 > sizeof joined)
                return fail(ld, f->line, "dns.resolver", "%s", usage);
            if (i)
                strcat(joined, " ");
            strcat(joined, f->str);
        }
    } else {
        return fail(ld, n->line, "dns.resolver", "%s", usage);
    }
    free(ld->cfg->dns_resolver);
    ld->cfg->dns_resolver = pm_strdup(joined);
    return 0;
}

/* A signing key's file: readable, a regular file, no access for other
 * users (it signs as the domain), at most 64 KiB, a PEM RSA or Ed25519 key. */
static int load_dkim_key(loader_t *ld, const char *name, const pm_toml_node_t *n)
{
    char key[160];
    snprintf(key, sizeof key, "dkim.keys.%s.file", name);
    if (n->type != PM_TOML_STRING)
        return fail(ld, n->line, key, "expected string (a key file), got %s", pm_toml_type_name(n->type));
    char *path = readable_file(ld, n->line, key, "key", n->str);
    if (path == NULL)
        return -1;
    pm_dkim_key_t k = {pm_strdup(name), path, NULL, 0, NULL};
    pm_config_t *cfg = ld->cfg;
    cfg->dkim_keys = pm_realloc(cfg->dkim_keys, (cfg->n_dkim_keys + 1) * sizeof *cfg->dkim_keys);
    cfg->dkim_keys[cfg->n_dkim_keys++] = k; /* freed with cfg, also on error */
    pm_dkim_key_t *kp = &cfg->dkim_keys[cfg->n_dkim_keys - 1];
    struct stat st;
    FILE *f = fopen(path, "r");
    if (f == NULL || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        if (f)
            fclose(f);
        return fail(ld, n->line, key, "%s is not a readable regular file", path);
    }
    if (st.st_mode & (S_IROTH | S_IWOTH)) {
        fclose(f);
        return fail(ld, n->line, key, "%s is accessible to every user (mode %04o): chmod o-rw it", path,
                    (unsigned)(st.st_mode & 07777));
    }
    kp->pem = pm_malloc(65537);
    kp->pem_len = fread(kp->pem, 1, 65537, f);
    fclose(f);
    if (kp->pem_len > 65536)
        return fail(ld, n->line, key, "%s is over 64 KiB: not a key", path);
    char why[128];
    kp->algorithm = pm_dkim_key_algorithm(kp->pem, kp->pem_len, why, sizeof why);
    if (kp->algorithm == NULL)
        return fail(ld, n->line, key, "%s: %s", path, why);
    if (strcmp(kp->algorithm, "ed25519-sha256") == 0)
        warn(ld, n->line, key,
             "Debian's libopendkim 2.11 leaks about 0.7 KB per ed25519-sha256 signature (docs/auth.md)");
    return 0;
}

/* [dkim.keys.NAME] file = "...": each NAME a table with one key, file. */
static int load_dkim(loader_t *ld, const pm_toml_node_t *dkim)
{
    for (size_t i = 0; i < dkim->n_items; i++) {
        const pm_toml_node_t *n = &dkim->items[i];
        char key[160];
        snprintf(key, sizeof key, "dkim.%s", n->key);
        if (strcmp(n->key, "keys") != 0) {
            warn(ld, n->line, key, "unknown key, ignored");
            continue;
        }
        if (n->type != PM_TOML_TABLE)
            return fail(ld, n->line, key, "expected tables ([dkim.keys.NAME] file = \"...\"), got %s",
                        pm_toml_type_name(n->type));
        for (size_t j = 0; j < n->n_items; j++) {
            const pm_toml_node_t *k = &n->items[j];
            snprintf(key, sizeof key, "dkim.keys.%s", k->key);
            if (k->type != PM_TOML_TABLE)
                return fail(ld, k->line, key, "expected a table ([%s] file = \"...\"), got %s", key,
                            pm_toml_type_name(k->type));
            const pm_toml_node_t *file = NULL;
            for (size_t f = 0; f < k->n_items; f++) {
                if (strcmp(k->items[f].key, "file") == 0)
                    file = &k->items[f];
                else {
                    char sub[200];
                    snprintf(sub, sizeof sub, "%s.%s", key, k->items[f].key);
                    warn(ld, k->items[f].line, sub, "unknown key, ignored");
                }
            }
            if (file == NULL)
                return fail(ld, k->line, key, "missing file (the PEM private key)");
            if (load_dkim_key(ld, k->key, file))
                return -1;
        }
    }
    return 0;
}

static void set_defaults(pm_config_t *cfg)
{
    cfg->name = pm_strdup("pmilter");
    cfg->timeout = 7210;
    cfg->log_level = PM_LOG_NOTICE;
    cfg->log_target = pm_strdup("stderr");
    cfg->log_facility = pm_log_facility_from_name("mail");
    cfg->mruby_handler = 1;
    cfg->listen_backlog = 128;
    cfg->min_worker = 4;
    cfg->max_worker = 128;
    cfg->handler_error = SMFIS_TEMPFAIL;
    cfg->max_body_size = 10 * 1024 * 1024;
    cfg->max_headers = 1000;
    cfg->max_header_bytes = 1024 * 1024;
    cfg->max_input_memory = 256;
    cfg->max_recipients = 1000;
    cfg->max_sessions = 10000;
    cfg->handler_timeout = 10;
    cfg->shutdown_grace = 30;
    cfg->handler_memory = 256;
    cfg->listen_mode = -1;
    cfg->dns_resolver = pm_strdup("system");
    cfg->dns_timeout_ms = 2000;
    cfg->dns_cache_size = 4;
    cfg->mime_max_depth = 30;
    cfg->mime_max_parts = 5000;
    cfg->mime_max_decoded_size = 64 << 20;
    cfg->kv_memory_limit = 64;
    cfg->kv_url = pm_strdup("redis://127.0.0.1:6379/0");
    cfg->kv_prefix = pm_strdup("pmilter:");
    cfg->kv_timeout_ms = 500;
    cfg->kv_on_error = -1;
    cfg->kv_persist_interval = 60;
    cfg->metrics_max_series = 100;
}

/* The line of a "file:line: key: why" warning. */
static long warning_line(const char *w)
{
    const char *colon = strchr(w, ':');
    return colon ? strtol(colon + 1, NULL, 10) : 0;
}

static pm_config_t *load_tree(loader_t *ld, pm_toml_node_t *root)
{
    pm_config_t *cfg = ld->cfg;
    int rc = 0;
    for (size_t i = 0; i < root->n_items && rc == 0; i++) {
        const pm_toml_node_t *n = &root->items[i];
        if (strcmp(n->key, "server") == 0 && n->type == PM_TOML_TABLE)
            rc = load_section(ld, n, "server", server_keys, sizeof server_keys / sizeof server_keys[0]);
        else if (strcmp(n->key, "kv") == 0 && n->type == PM_TOML_TABLE)
            rc = load_section(ld, n, "kv", kv_keys, sizeof kv_keys / sizeof kv_keys[0]);
        else if (strcmp(n->key, "metrics") == 0 && n->type == PM_TOML_TABLE)
            rc = load_section(ld, n, "metrics", metrics_keys, sizeof metrics_keys / sizeof metrics_keys[0]);
        else if (strcmp(n->key, "mime") == 0 && n->type == PM_TOML_TABLE)
            rc = load_section(ld, n, "mime", mime_keys, sizeof mime_keys / sizeof mime_keys[0]);
        else if (strcmp(n->key, "handler") == 0 && n->type == PM_TOML_TABLE)
            rc = load_handlers(ld, n);
        else if (strcmp(n->key, "dns") == 0 && n->type == PM_TOML_TABLE)
            rc = load_section(ld, n, "dns", dns_keys, sizeof dns_keys / sizeof dns_keys[0]);
        else if (strcmp(n->key, "dkim") == 0 && n->type == PM_TOML_TABLE)
            rc = load_dkim(ld, n);
        else if (strcmp(n->key, "server") == 0 || strcmp(n->key, "handler") == 0 || strcmp(n->key, "kv") == 0 ||
                 strcmp(n->key, "dns") == 0 || strcmp(n->key, "metrics") == 0 ||
                 strcmp(n->key, "mime") == 0 || strcmp(n->key, "dkim") == 0)
            rc = fail(ld, n->line, n->key, "expected a table ([%s]), got %s", n->key, pm_toml_type_name(n->type));
        else if (strcmp(n->key, "title") != 0)
            warn(ld, n->line, n->key, "unknown key, ignored");
    }
    /* toml++ hands tables over sorted by key: put the warnings in line order. */
    for (size_t i = 1; i < cfg->n_warnings; i++)
        for (size_t j = i; j > 0 && warning_line(cfg->warnings[j - 1]) > warning_line(cfg->warnings[j]); j--) {
            char *t = cfg->warnings[j];
            cfg->warnings[j] = cfg->warnings[j - 1];
            cfg->warnings[j - 1] = t;
        }
    if (rc == 0 && cfg->listen == NULL)
        rc = fail(ld, 1, "server.listen", "missing (e.g. listen = \"pmilter.sock\")");
    if (rc == 0 && cfg->max_worker < cfg->min_worker)
        rc = fail(ld, 1, "server.max_worker", "%d is below min_worker (%d)", cfg->max_worker, cfg->min_worker);
    pm_toml_free(root);
    if (rc != 0)
        return pm_config_free(cfg);
    return cfg;
}

pm_config_t *pm_config_load_string(const char *text, size_t len, const char *name, const char *dir, char *err,
                                   size_t errlen)
{
    char perr[512];
    pm_toml_node_t *root = pm_toml_parse_string(text, len, perr, sizeof perr);
    if (root == NULL) {
        if (strncmp(perr, "0:0: ", 5) == 0)
            snprintf(err, errlen, "%s: %s", name, perr + 5);
        else
            snprintf(err, errlen, "%s:%s", name, perr);
        return NULL;
    }
    loader_t ld = {name, dir, err, errlen, pm_calloc(1, sizeof(pm_config_t))};
    set_defaults(ld.cfg);
    ld.cfg->file = pm_strdup(name);
    ld.cfg->dir = pm_strdup(dir ? dir : ".");
    return load_tree(&ld, root);
}

pm_config_t *pm_config_load(const char *path, char *err, size_t errlen)
{
    char perr[512];
    pm_toml_node_t *root = pm_toml_parse_file(path, perr, sizeof perr);
    if (root == NULL) {
        if (strncmp(perr, "0:0: ", 5) == 0)
            snprintf(err, errlen, "%s: %s", path, perr + 5);
        else
            snprintf(err, errlen, "%s:%s", path, perr);
        return NULL;
    }
    char *copy = pm_strdup(path);
    loader_t ld = {path, dirname(copy), err, errlen, pm_calloc(1, sizeof(pm_config_t))};
    set_defaults(ld.cfg);
    ld.cfg->file = pm_strdup(path);
    ld.cfg->dir = pm_strdup(ld.dir);
    pm_config_t *cfg = load_tree(&ld, root);
    free(copy);
    return cfg;
}

pm_config_t *pm_config_free(pm_config_t *cfg)
{
    if (cfg == NULL)
        return NULL;
    for (size_t i = 0; i < cfg->n_dkim_keys; i++) {
        free(cfg->dkim_keys[i].name);
        free(cfg->dkim_keys[i].file);
        if (cfg->dkim_keys[i].pem)
            memset(cfg->dkim_keys[i].pem, 0, cfg->dkim_keys[i].pem_len); /* no key left in freed memory */
        free(cfg->dkim_keys[i].pem);
    }
    free(cfg->dkim_keys);
    free(cfg->file);
    free(cfg->dir);
    free(cfg->name);
    free(cfg->listen);
    free(cfg->log_target);
    free(cfg->listen_path);
    free(cfg->listen_host);
    free(cfg->user);
    free(cfg->group);
    free(cfg->dns_resolver);
    free(cfg->dns_hosts_file);
    free(cfg->listen_owner);
    free(cfg->listen_group);
    free(cfg->kv_url);
    free(cfg->kv_password);
    free(cfg->kv_prefix);
    free(cfg->kv_persist);
    free(cfg->metrics_listen);
    for (int i = 0; i < PM_PHASE_COUNT; i++) {
        free(cfg->handler[i]);
        free(cfg->handler_src[i]);
    }
    for (int i = 0; i < PM_MACRO_STAGE_COUNT; i++)
        free(cfg->macros[i]);
    for (size_t i = 0; i < cfg->n_library; i++)
        free(cfg->library[i]);
    free(cfg->library);
    for (size_t i = 0; i < cfg->n_warnings; i++)
        free(cfg->warnings[i]);
    free(cfg->warnings);
    free(cfg);
    return NULL;
}
