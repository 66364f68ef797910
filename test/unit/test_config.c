/* Unit tests for config.c: every key, every listen form, every error message. */
#include <libmilter/mfapi.h>
#include <stdlib.h>

#include "core/config.h"
#include "core/log.h"
#include "unit.h"

static char err[1024];

static pm_config_t *load(const char *text)
{
    err[0] = '\0';
    return pm_config_load_string(text, strlen(text), "t.conf", "/etc/pm", err, sizeof err);
}

/* Loads text expecting failure; returns the error message. */
static const char *load_error(const char *text)
{
    pm_config_t *cfg = load(text);
    if (cfg) {
        pm_config_free(cfg);
        return "(loaded without error)";
    }
    return err;
}

static void test_defaults(void)
{
    pm_config_t *cfg = load("[server]\nlisten = \"pm.sock\"\n");
    CHECK("defaults: minimal config loads", cfg != NULL);
    if (!cfg)
        return;
    CHECK("defaults: timeout 7210", cfg->timeout == 7210);
    CHECK("defaults: log_level notice", cfg->log_level == PM_LOG_NOTICE);
    CHECK("defaults: mruby_handler on", cfg->mruby_handler == 1);
    CHECK("defaults: listen_backlog 128", cfg->listen_backlog == 128);
    CHECK("defaults: handler_error tempfail", cfg->handler_error == SMFIS_TEMPFAIL);
    CHECK("defaults: min_worker <= max_worker", cfg->min_worker >= 1 && cfg->min_worker <= cfg->max_worker);
    CHECK_STR("defaults: name pmilter", cfg->name, "pmilter");
    CHECK("defaults: no handlers", cfg->handler[PM_PHASE_EOM] == NULL);
    CHECK("defaults: no warnings", cfg->n_warnings == 0);
    pm_config_free(cfg);
}

static void test_every_key(void)
{
    pm_config_t *cfg = load("title = \"x\"\n[server]\nlisten = \"inet:10025@127.0.0.1\"\ntimeout = 30\n"
                            "log_level = \"debug\"\nmruby_handler = false\nlisten_backlog = 7\ndebug = 2\n"
                            "min_worker = 3\nmax_worker = 9\nhandler_error = \"accept\"\nname = \"mine\"\n");
    CHECK("keys: full [server] loads", cfg != NULL);
    if (!cfg)
        return;
    CHECK("keys: timeout", cfg->timeout == 30);
    CHECK("keys: log_level", cfg->log_level == PM_LOG_DEBUG);
    CHECK("keys: mruby_handler", cfg->mruby_handler == 0);
    CHECK("keys: listen_backlog", cfg->listen_backlog == 7);
    CHECK("keys: debug", cfg->debug == 2);
    CHECK("keys: min_worker", cfg->min_worker == 3);
    CHECK("keys: max_worker", cfg->max_worker == 9);
    CHECK("keys: handler_error", cfg->handler_error == SMFIS_ACCEPT);
    CHECK_STR("keys: name", cfg->name, "mine");
    CHECK("keys: top-level title is not a warning", cfg->n_warnings == 0);
    pm_config_free(cfg);

    cfg = load("[server]\nlisten = \"a.sock\"\nworkers = 5\nbacklog = 64\ndebug = false\n");
    CHECK("keys: original workers/backlog/debug=false load", cfg != NULL);
    if (cfg) {
        CHECK("keys: workers is min_worker", cfg->min_worker == 5);
        CHECK("keys: backlog is listen_backlog", cfg->listen_backlog == 64);
        pm_config_free(cfg);
    }
    static const char *const verdicts[] = {"tempfail", "continue", "accept", "reject", "discard"};
    static const int values[] = {SMFIS_TEMPFAIL, SMFIS_CONTINUE, SMFIS_ACCEPT, SMFIS_REJECT, SMFIS_DISCARD};
    for (int i = 0; i < 5; i++) {
        char text[128];
        snprintf(text, sizeof text, "[server]\nlisten = \"a\"\nhandler_error = \"%s\"\nmax_worker = 4\n", verdicts[i]);
        cfg = load(text);
        CHECK(verdicts[i], cfg && cfg->handler_error == values[i]);
        pm_config_free(cfg);
    }
    static const char *const levels[] = {"debug", "info", "notice", "warn", "error"};
    for (int i = 0; i < 5; i++) {
        char text[128];
        snprintf(text, sizeof text, "[server]\nlisten = \"a\"\nlog_level = \"%s\"\n", levels[i]);
        cfg = load(text);
        CHECK(levels[i], cfg && cfg->log_level == i);
        pm_config_free(cfg);
    }
}

static void test_new_keys(void)
{
    pm_config_t *cfg = load("[server]\nlisten = \"a\"\nmax_body_size = 4096\nmax_headers = 7\nmax_recipients = 9\n"
                            "max_sessions = 11\nhandler_timeout = 3\nshutdown_grace = 0\nhandler_memory = 64\n"
                            "user = \"nobody\"\ngroup = \"nogroup\"\nlisten_owner = \"root\"\nlisten_group = \"postfix\"\n"
                            "listen_mode = \"0660\"\nmacros.envfrom = [\"{auth_type}\", \"i\"]\nmacros.eom = [\"{x}\"]\n");
    CHECK("keys: limits, privileges and macros load", cfg != NULL);
    if (!cfg) {
        printf("  (%s)\n", err);
        return;
    }
    CHECK("keys: max_body_size", cfg->max_body_size == 4096);
    CHECK("keys: max_headers", cfg->max_headers == 7);
    CHECK("keys: max_recipients", cfg->max_recipients == 9);
    CHECK("keys: max_sessions", cfg->max_sessions == 11);
    CHECK("keys: handler_timeout", cfg->handler_timeout == 3);
    CHECK("keys: shutdown_grace", cfg->shutdown_grace == 0);
    CHECK("keys: handler_memory", cfg->handler_memory == 64);
    CHECK_STR("keys: user", cfg->user, "nobody");
    CHECK_STR("keys: group", cfg->group, "nogroup");
    CHECK_STR("keys: listen_owner", cfg->listen_owner, "root");
    CHECK_STR("keys: listen_group", cfg->listen_group, "postfix");
    CHECK("keys: listen_mode is octal", cfg->listen_mode == 0660);
    CHECK_STR("keys: macros.envfrom joined for smfi_setsymlist", cfg->macros[PM_MACRO_STAGE_ENVFROM], "{auth_type} i");
    CHECK_STR("keys: macros.eom", cfg->macros[PM_MACRO_STAGE_EOM], "{x}");
    CHECK("keys: unset macro stages stay NULL", cfg->macros[PM_MACRO_STAGE_CONNECT] == NULL);
    pm_config_free(cfg);
    cfg = load("[server]\nlisten = \"a\"\n");
    CHECK("defaults: listen_mode unset", cfg && cfg->listen_mode == -1 && cfg->max_body_size == 10485760 &&
                                           cfg->handler_timeout == 10 && cfg->user == NULL);
    pm_config_free(cfg);
}

static void test_listen_forms(void)
{
    static const struct {
        const char *value;
        pm_listen_family_t family;
        const char *path, *host;
        int port;
    } cases[] = {
        {"pmilter.sock", PM_LISTEN_UNIX, "/etc/pm/pmilter.sock", NULL, 0},
        {"/var/spool/postfix/pmilter/pmilter.sock", PM_LISTEN_UNIX, "/var/spool/postfix/pmilter/pmilter.sock", NULL, 0},
        {"unix:/run/pm.sock", PM_LISTEN_UNIX, "/run/pm.sock", NULL, 0},
        {"local:/run/pm.sock", PM_LISTEN_UNIX, "/run/pm.sock", NULL, 0},
        {"unix:rel.sock", PM_LISTEN_UNIX, "/etc/pm/rel.sock", NULL, 0},
        {"inet:10025@127.0.0.1", PM_LISTEN_INET, NULL, "127.0.0.1", 10025},
        {"inet:10025@localhost", PM_LISTEN_INET, NULL, "localhost", 10025},
        {"inet:10025", PM_LISTEN_INET, NULL, NULL, 10025},
        {"inet:127.0.0.1:10026", PM_LISTEN_INET, NULL, "127.0.0.1", 10026},
        {"inet6:10027@::1", PM_LISTEN_INET6, NULL, "::1", 10027},
        {"inet6:10027", PM_LISTEN_INET6, NULL, NULL, 10027},
        {"127.0.0.1:10028", PM_LISTEN_INET, NULL, "127.0.0.1", 10028},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[256], name[128];
        snprintf(text, sizeof text, "[server]\nlisten = \"%s\"\n", cases[i].value);
        snprintf(name, sizeof name, "listen: %s", cases[i].value);
        pm_config_t *cfg = load(text);
        CHECK(name, cfg && cfg->listen_family == cases[i].family && cfg->listen_port == cases[i].port &&
                        (cases[i].path == NULL ? cfg->listen_path == NULL : strcmp(cfg->listen_path, cases[i].path) == 0) &&
                        (cases[i].host == NULL ? cfg->listen_host == NULL : strcmp(cfg->listen_host, cases[i].host) == 0));
        pm_config_free(cfg);
    }
}

static void test_errors(void)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"[server]\nlisten = \"a\"\ntimeout = \"ten\"\n", "t.conf:3: server.timeout: expected integer, got string"},
        {"[server]\nlisten = \"a\"\ntimeout = 0\n", "t.conf:3: server.timeout: 0 is out of range (1-604800)"},
        {"[server]\nlisten = 5\n", "t.conf:2: server.listen: expected string, got integer"},
        {"[server]\nlisten = \"\"\n", "t.conf:2: server.listen: empty"},
        {"[server]\nlisten = \"unix:\"\n", "t.conf:2: server.listen: \"unix:\": missing socket path"},
        {"[server]\nlisten = \"inet:abc@127.0.0.1\"\n",
         "t.conf:2: server.listen: \"inet:abc@127.0.0.1\": expected inet:PORT@HOST with PORT 1-65535"},
        {"[server]\nlisten = \"inet:70000@127.0.0.1\"\n",
         "t.conf:2: server.listen: \"inet:70000@127.0.0.1\": expected inet:PORT@HOST with PORT 1-65535"},
        {"[server]\nlisten = \"inet:25@\"\n", "t.conf:2: server.listen: \"inet:25@\": expected inet:PORT@HOST with PORT 1-65535"},
        {"[server]\nlisten = \"127.0.0.1:0\"\n", "t.conf:2: server.listen: \"127.0.0.1:0\": bad port (1-65535)"},
        {"[server]\nlisten = \"a\"\nlog_level = \"loud\"\n",
         "t.conf:3: server.log_level: \"loud\": expected debug, info, notice, warn or error"},
        {"[server]\nlisten = \"a\"\nhandler_error = \"drop\"\n",
         "t.conf:3: server.handler_error: \"drop\": expected tempfail, continue, accept, reject or discard"},
        {"[server]\nlisten = \"a\"\nmruby_handler = \"yes\"\n", "t.conf:3: server.mruby_handler: expected boolean, got string"},
        {"[server]\nlisten = \"a\"\nmin_worker = 8\nmax_worker = 2\n", "t.conf:1: server.max_worker: 2 is below min_worker (8)"},
        {"[server]\ntimeout = 5\n", "t.conf:1: server.listen: missing (e.g. listen = \"pmilter.sock\")"},
        {"server = 1\n", "t.conf:1: server: expected a table ([server]), got integer"},
        {"[server]\nlisten = \"a\"\n[handler.session]\nmruby_eom_handler = 3\n",
         "t.conf:4: handler.session.mruby_eom_handler: expected string (a handler file), got integer"},
        {"[server]\nlisten = \"a\"\n[handler.session]\nmruby_eom_handler = \"/nonexistent/eom.rb\"\n",
         "t.conf:4: handler.session.mruby_eom_handler: cannot read handler /nonexistent/eom.rb: No such file or directory"},
        {"[server]\nlisten = \"a\"\nlisten = \"b\"\n", "t.conf:3:10: Error while parsing key-value pair: cannot redefine existing string 'listen'"},
        {"[server\n", "t.conf:1:"},
        {"[server]\nlisten = \"a\"\nlisten_mode = \"rw\"\n",
         "t.conf:3: server.listen_mode: \"rw\": expected octal permission bits such as \"0660\""},
        {"[server]\nlisten = \"a\"\nlisten_mode = \"0999\"\n", "t.conf:3: server.listen_mode: \"0999\""},
        {"[server]\nlisten = \"a\"\nmacros.rcpt = [\"i\"]\n",
         "t.conf:3: server.macros.rcpt: unknown stage (connect, helo, envfrom, envrcpt, data, eoh, eom)"},
        {"[server]\nlisten = \"a\"\nmacros.eom = \"i\"\n", "t.conf:3: server.macros.eom: expected an array of macro names"},
        {"[server]\nlisten = \"a\"\nmacros.eom = [\"a b\"]\n", "t.conf:3: server.macros.eom: macro names are non-empty"},
        {"[server]\nlisten = \"a\"\nmax_sessions = 0\n", "t.conf:3: server.max_sessions: 0 is out of range"},
        {"[server]\nlisten = \"a\"\nhandler_memory = 1\n", "t.conf:3: server.handler_memory: 1 is out of range (8-65536)"},
        {"[server]\nlisten = \"a\"\n[handler.config]\nmruby_library = \"x.rb\"\n",
         "t.conf:4: handler.config.mruby_library: expected an array of file names, got string"},
        {"[$]\n", "t.conf:1:1: a table name must start with a letter, digit, _, - or a quote"},
        {"[server]\nlisten = \"a\"\n\xc8\x97\n", "t.conf:3:1: non-ASCII character outside a string or comment"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[96];
        snprintf(name, sizeof name, "error %zu: %.60s", i + 1, cases[i].want);
        const char *got = load_error(cases[i].text);
        if (strncmp(got, cases[i].want, strlen(cases[i].want)) == 0)
            printf("PASS: %s\n", name);
        else {
            printf("FAIL: %s: got \"%s\"\n", name, got);
            unit_failures++;
        }
    }
}

static void test_warnings_and_handlers(void)
{
    pm_config_t *cfg = load("[server]\nlisten = \"a\"\ntimout = 5\n[handler.session]\nmruby_eom_handlr = \"x.rb\"\n"
                            "[extra]\nk = 1\n");
    CHECK("warnings: unknown keys still load", cfg != NULL);
    if (cfg) {
        CHECK("warnings: three unknown keys", cfg->n_warnings == 3);
        int seen = 0;
        for (size_t i = 0; i < cfg->n_warnings; i++)
            seen += strcmp(cfg->warnings[i], "t.conf:3: server.timout: unknown key, ignored") == 0 ||
                    strcmp(cfg->warnings[i], "t.conf:5: handler.session.mruby_eom_handlr: unknown key, ignored") == 0 ||
                    strcmp(cfg->warnings[i], "t.conf:6: extra: unknown key, ignored") == 0;
        CHECK("warnings: each names file, line and key", seen == 3);
        pm_config_free(cfg);
    }
    /* Handler paths resolve against the config file's directory. test/unit has handler/x.rb-like files: use this dir. */
    err[0] = '\0';
    const char *text = "[server]\nlisten = \"a\"\n[handler]\nmruby_eom_handler = \"unit.h\"\n"
                       "[handler.config]\nmruby_postconfig_handler = \"unit.h\"\n";
    cfg = pm_config_load_string(text, strlen(text), "t.conf", ".", err, sizeof err);
    CHECK("handlers: flat [handler] and [handler.config] load", cfg != NULL);
    if (cfg) {
        CHECK_STR("handlers: eom path", cfg->handler[PM_PHASE_EOM], "unit.h");
        CHECK_STR("handlers: postconfig path", cfg->handler[PM_PHASE_POSTCONFIG], "unit.h");
        CHECK_STR("handlers: where it was set", cfg->handler_src[PM_PHASE_EOM], "t.conf:4");
        pm_config_free(cfg);
    }
}

int main(void)
{
    test_defaults();
    test_every_key();
    test_listen_forms();
    test_new_keys();
    test_errors();
    test_warnings_and_handlers();
    return unit_failures ? 1 : 0;
}
