/* config: the immutable configuration snapshot, loaded from a TOML pmilter.conf.
 * Every key has one entry in the key table in config.c (name, type, default,
 * bounds). Errors name the place: "pmilter.conf:12: server.timeout: expected
 * integer, got string". After loading, the snapshot is only read.
 * Threads: loaded by main or the reload thread; the snapshot is then
 * shared read-only by every thread until its generation is freed. */
#ifndef PM_CONFIG_H
#define PM_CONFIG_H
#include <stddef.h>

#include "core/phase.h"

#define PM_EX_CONFIG 78 /* sysexits.h EX_CONFIG: exit status for a bad config */

typedef enum { PM_LISTEN_UNIX, PM_LISTEN_INET, PM_LISTEN_INET6 } pm_listen_family_t;

enum { PM_MACRO_STAGE_CONNECT, PM_MACRO_STAGE_HELO, PM_MACRO_STAGE_ENVFROM, PM_MACRO_STAGE_ENVRCPT,
       PM_MACRO_STAGE_DATA, PM_MACRO_STAGE_EOH, PM_MACRO_STAGE_EOM, PM_MACRO_STAGE_COUNT };
/* "connect", "helo", "envfrom", "envrcpt", "data", "eoh", "eom" */
extern const char *const pm_macro_stage_names[PM_MACRO_STAGE_COUNT];

/* [dkim.keys.NAME] file = "...": a signing key, read at load (docs/auth.md). */
typedef struct pm_dkim_key {
    char *name;            /* NAME, as Session#dkim_sign(key:) names it */
    char *file;            /* resolved path */
    char *pem;             /* the file's content; owned */
    size_t pem_len;
    const char *algorithm; /* "rsa-sha256" or "ed25519-sha256" (static) */
} pm_dkim_key_t;

/* Verdict codes for handler_error; the values are libmilter's SMFIS_*. */
typedef struct pm_config {
    char *file; /* path as given on the command line */
    char *dir;  /* its directory: relative paths inside are resolved against it */

    /* [server] */
    char *name;       /* Pmilter.name; "pmilter" */
    char *listen;     /* as written, e.g. "pmilter.sock", "inet:10025@127.0.0.1" */
    pm_listen_family_t listen_family;
    char *listen_path;  /* unix: resolved socket path */
    char *listen_host;  /* inet/inet6: host or address; NULL for any */
    int listen_port;    /* inet/inet6 */
    int listen_backlog; /* listen(2) backlog */
    int timeout;        /* seconds: libmilter's I/O timeout towards the MTA */
    int log_level;      /* pm_log_level_t */
    char *log_target;   /* "stderr", "syslog", "journal" or "file:/resolved/path"; read at start only */
    int log_facility;   /* syslog LOG_* facility (LOG_MAIL); read at start only */
    int log_json;       /* log_format: 0 text, 1 json; read at start only */
    int log_envelope;   /* ask the MTA for connect, HELO and RCPT TO for the per-message log line */
    int mruby_handler;  /* 0: handlers are not run, every phase continues */
    int debug;          /* libmilter debug level (smfi_setdbg) */
    int min_worker;     /* VMs created at start */
    int max_worker;     /* bound of the VM pool */
    int handler_error;  /* SMFIS_* verdict when a handler raises */
    int max_body_size;  /* bytes of body kept per message for Session#body */
    int max_headers;    /* headers kept per message for Session#headers */
    int max_header_bytes; /* bytes of those headers kept per message */
    int max_input_memory; /* MiB of headers and bodies all sessions together keep */
    int max_recipients; /* recipients kept per message for envelope_to_all */
    int max_sessions;   /* MTA connections served at once; beyond, new ones get tempfail */
    int handler_timeout;  /* seconds a handler may run before the MTA connection is cut */
    int shutdown_grace;   /* seconds SIGTERM waits for open messages to finish */
    int handler_memory;   /* MiB one VM may allocate; beyond, the handler gets NoMemoryError */

    /* Privileges and the unix socket's ownership (applied while still root). */
    char *user, *group;             /* drop to these after binding; NULL: stay */
    char *listen_owner, *listen_group; /* owner of the unix socket; NULL: unchanged */
    int listen_mode;                /* permission bits of the unix socket; -1: umask default */

    /* [server] macros.<stage> = ["{name}", ...]: asked of the MTA per stage
     * with smfi_setsymlist; space-separated, NULL if not configured.
     * Index: PM_MACRO_STAGE_* below. */
    char *macros[7];

    /* [handler.session] and [handler.config]: resolved paths, NULL if unset */
    char *handler[PM_PHASE_COUNT];
    char *handler_src[PM_PHASE_COUNT]; /* where it was set: "pmilter.conf:20" */

    /* [handler.config] mruby_library: files loaded into every VM before the handlers */
    char **library;
    size_t n_library;

    /* [dns]: the resolver is made once at start and kept across reloads, so
     * only dns_timeout_ms of a reloaded config takes effect. */
    char *dns_resolver;   /* "system", "recursive", or forwarders joined by spaces */
    int dns_timeout_ms;   /* default deadline of one DNS call */
    int dns_cache_size;   /* MiB of answer cache */
    char *dns_hosts_file; /* resolved path, NULL: none */
    /* [mime]: limits of Session#mime against hostile MIME (docs/mime.md) */
    int mime_max_depth;         /* nesting levels below the root */
    int mime_max_parts;         /* parts of one message */
    int mime_max_decoded_size;  /* decoded bytes of all parts together */
    /* [kv]: Pmilter::KV (docs/kv.md) */
    int kv_redis;          /* backend: 0 memory (default), 1 redis */
    int kv_memory_limit;   /* MiB the memory backend keeps; read at start only */
    char *kv_url;          /* redis: "redis://host:port/db" or "unix:/path" */
    char *kv_password;     /* redis AUTH; NULL: none */
    char *kv_prefix;       /* prepended to every key; "pmilter:" */
    int kv_timeout_ms;     /* redis: connect and reply deadline */
    int kv_on_error;       /* SMFIS_* when a handler stops on Pmilter::KV::Error; -1: handler_error */
    char *kv_persist;      /* memory backend snapshot file, resolved; NULL: none. Read at start only */
    int kv_persist_interval; /* seconds between snapshots; 0: only at stop */
    /* [metrics]: the Prometheus endpoint (docs/metrics.md); read at start only */
    char *metrics_listen;  /* "host:port"; NULL: off */
    int metrics_max_series; /* label sets per custom metric */

    /* [dkim.keys.NAME]: signing keys, checked and read at load */
    pm_dkim_key_t *dkim_keys;
    size_t n_dkim_keys;

    char **warnings; /* non-fatal findings (unknown keys), for the caller to log */
    size_t n_warnings;
} pm_config_t;

/* Loads and validates path. Returns NULL with a one-line message in err on
 * any error (file, line and key named). Handler files must be readable. */
pm_config_t *pm_config_load(const char *path, char *err, size_t errlen);
/* Same from text; dir resolves relative paths, name labels messages. */
pm_config_t *pm_config_load_string(const char *text, size_t len, const char *name, const char *dir, char *err,
                                   size_t errlen);
pm_config_t *pm_config_free(pm_config_t *cfg);

/* Verdict name <-> SMFIS_* ("continue", "accept", "reject", "tempfail", "discard"). */
int pm_config_verdict_from_name(const char *name);
const char *pm_config_verdict_name(int smfis);

#endif
