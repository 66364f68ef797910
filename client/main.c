/*++
 * pmilter-client - the MTA side of the milter protocol, for testing milters
 *
 * SYNOPSIS
 *   pmilter-client -s SPEC mail.eml [--from A] [--to B ...] [--client-ip IP] [--client-host NAME]
 *                  [--client-port N] [--helo NAME] [--macro [PHASE:]NAME=VALUE ...] [--timeout S] [--json]
 *   pmilter-client --load -s SPEC -c CONNS -m MSGS -t SECONDS -b BODY_BYTES [--headers N] [--from A] [--to B] [--json]
 *   pmilter-client --stats URL [--interval SECONDS] [--timeout SECONDS]
 * DESCRIPTION
 *   argv only: parses options, loads the message, hands off to play_run() or load_run(), prints.
 * DIAGNOSTICS
 *   Exit 0 accept/continue, 1 reject/discard, 2 tempfail, 3 protocol error, 64 usage error,
 *   66 unreadable message file.
 *--*/
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbuf.h"
#include "eml.h"
#include "load.h"
#include "milter_proto.h"
#include "play.h"
#include "stats.h"

#define EX_USAGE 64
#define EX_NOINPUT 66

static const char usage_text[] =
    "usage: pmilter-client -s SPEC MAIL.eml [options]      play one message against a milter\n"
    "       pmilter-client --load -s SPEC [load options]   load generator\n"
    "       pmilter-client --stats URL [--interval S]      pmilter's metrics, for a person\n"
    "\n"
    "SPEC is unix:/path, local:/path, inet:PORT@HOST or inet6:PORT@HOST. MAIL.eml may be - for stdin.\n"
    "\n"
    "options:\n"
    "  --from ADDR [ARGS]     envelope sender (default: the From: address), e.g. \"<a@b> SIZE=10\"\n"
    "  --to ADDR [ARGS]       a recipient, repeatable (default: the To: addresses)\n"
    "  --client-ip IP         client address (default 127.0.0.1); IPv6 sends family 6,\n"
    "                         unix:/path family L, unknown family U\n"
    "  --client-host NAME     client host name (default localhost)\n"
    "  --client-port N        client port (default 40000)\n"
    "  --helo NAME            HELO name (default: the client host name)\n"
    "  --macro [PHASE:]NAME=VALUE\n"
    "                         add or override a macro, repeatable; PHASE is connect (default), helo,\n"
    "                         envfrom, envrcpt, data, eoh or eom; e.g. envfrom:{auth_type}=PLAIN\n"
    "  --timeout SECONDS      per read, write and connect (default 10)\n"
    "  --json                 print one JSON object instead of text\n"
    "  -h, --help             this text\n"
    "\n"
    "load options:\n"
    "  -c CONNS               concurrent connections, one thread each (default 1)\n"
    "  -m MSGS                messages per connection before reconnecting (default 100)\n"
    "  -t SECONDS             run time (default 5)\n"
    "  -b BODY_BYTES          generated body size (default 2000)\n"
    "  --headers N            generated header count (default 10)\n"
    "  --from A, --to B       envelope (default <load-from@example.com>, <load-to@example.com>)\n"
    "  --json                 machine-readable summary\n"
    "\n"
    "stats: URL is pmilter's [metrics] endpoint, e.g. http://127.0.0.1:9779/metrics; it is\n"
    "fetched twice, --interval seconds apart (default 1), for the rates.\n"
    "\n"
    "exit status: 0 accept/continue, 1 reject/discard, 2 tempfail, 3 protocol error\n"
    "(connection refused, bad frame, closed early, timeout), 64 usage error,\n"
    "66 unreadable message file.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "pmilter-client: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\ntry pmilter-client -h\n");
    va_end(ap);
    return EX_USAGE;
}

/* Parses "[PHASE:]NAME=VALUE" into m; -1 if malformed. */
static int parse_macro(const char *s, play_macro_t *m)
{
    const char *eq = strchr(s, '=');
    if (!eq || eq == s)
        return -1;
    const char *colon = memchr(s, ':', (size_t)(eq - s));
    m->phase = MC_CONNECT;
    const char *name = s;
    if (colon && s[0] != '{') {
        m->phase = mc_phase_by_name(s, (size_t)(colon - s));
        if (m->phase < 0 || mc_macro_stage(m->phase) < 0)
            return -1;
        name = colon + 1;
    }
    if (name == eq)
        return -1;
    m->name = xstrndup(name, (size_t)(eq - name));
    m->value = xstrdup(eq + 1);
    return 0;
}

/* Strictly parses a positive number; -1 if it is not one. */
static double number(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    return end == s || *end || v < 0 ? -1 : v;
}

/* "<x>" from "x" or "<x>", into a static-lifetime string owned by the caller. */
static char *bracket(const char *a)
{
    size_t n = strlen(a);
    if (n >= 2 && a[0] == '<' && a[n - 1] == '>')
        return xstrdup(a);
    char *b = xmalloc(n + 3);
    snprintf(b, n + 3, "<%s>", a);
    return b;
}

int main(int argc, char **argv)
{
    enum { O_FROM = 256, O_TO, O_CIP, O_CHOST, O_CPORT, O_HELO, O_MACRO, O_JSON, O_TIMEOUT, O_LOAD, O_HEADERS, O_STATS, O_INTERVAL };
    static const struct option longopts[] = {
        {"from", required_argument, 0, O_FROM},         {"to", required_argument, 0, O_TO},
        {"client-ip", required_argument, 0, O_CIP},     {"client-host", required_argument, 0, O_CHOST},
        {"client-port", required_argument, 0, O_CPORT}, {"helo", required_argument, 0, O_HELO},
        {"macro", required_argument, 0, O_MACRO},       {"json", no_argument, 0, O_JSON},
        {"timeout", required_argument, 0, O_TIMEOUT},   {"load", no_argument, 0, O_LOAD},
        {"headers", required_argument, 0, O_HEADERS},   {"help", no_argument, 0, 'h'},
        {"spec", required_argument, 0, 's'},            {"stats", required_argument, 0, O_STATS},
        {"interval", required_argument, 0, O_INTERVAL}, {0, 0, 0, 0},
    };
    play_opts_t o = {.timeout_ms = 10000, .client_ip = "127.0.0.1", .client_host = "localhost", .client_port = 40000};
    load_opts_t lo = {.conns = 1, .msgs = 100, .seconds = 5, .body_bytes = 2000, .headers = 10};
    const char **to = NULL;
    play_macro_t *macros = NULL;
    int json = 0, load = 0, rc = EX_USAGE;
    const char *stats_url = NULL;
    double interval = 1;
    double d;
    int opt;
    /* Options may follow the message file (GNU permutation). */
    while ((opt = getopt_long(argc, argv, "hs:c:m:t:b:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            fputs(usage_text, stdout);
            rc = 0;
            goto out;
        case 's':
            o.spec = lo.spec = optarg;
            break;
        case O_FROM:
            o.from = optarg;
            break;
        case O_TO:
            to = xrealloc(to, (o.nto + 1) * sizeof *to);
            to[o.nto++] = optarg;
            break;
        case O_CIP:
            o.client_ip = optarg;
            break;
        case O_CHOST:
            o.client_host = optarg;
            break;
        case O_CPORT:
            if ((d = number(optarg)) < 0 || d > 65535 || d != (int)d) {
                rc = usage_error("bad --client-port \"%s\"", optarg);
                goto out;
            }
            o.client_port = (unsigned)d;
            break;
        case O_HELO:
            o.helo = optarg;
            break;
        case O_MACRO:
            macros = xrealloc(macros, (o.nmacros + 1) * sizeof *macros);
            if (parse_macro(optarg, &macros[o.nmacros]) < 0) {
                rc = usage_error("bad --macro \"%s\": expected [PHASE:]NAME=VALUE, PHASE one of connect, helo, "
                                 "envfrom, envrcpt, data, eoh, eom",
                                 optarg);
                goto out;
            }
            o.nmacros++;
            break;
        case O_JSON:
            json = 1;
            break;
        case O_TIMEOUT:
            if ((d = number(optarg)) <= 0 || d > 86400) {
                rc = usage_error("bad --timeout \"%s\": expected seconds > 0", optarg);
                goto out;
            }
            o.timeout_ms = lo.timeout_ms = (int)(d * 1000);
            break;
        case O_LOAD:
            load = 1;
            break;
        case O_STATS:
            stats_url = optarg;
            break;
        case O_INTERVAL:
            if ((interval = number(optarg)) <= 0 || interval > 3600) {
                rc = usage_error("bad --interval \"%s\": expected seconds > 0", optarg);
                goto out;
            }
            break;
        case 'c':
        case 'm':
        case O_HEADERS:
            if ((d = number(optarg)) < (opt == O_HEADERS ? 0 : 1) || d > 100000 || d != (int)d) {
                rc = usage_error("bad count \"%s\"", optarg);
                goto out;
            }
            *(opt == 'c' ? &lo.conns : opt == 'm' ? &lo.msgs : &lo.headers) = (int)d;
            break;
        case 't':
            if ((d = number(optarg)) <= 0) {
                rc = usage_error("bad -t \"%s\": expected seconds > 0", optarg);
                goto out;
            }
            lo.seconds = d;
            break;
        case 'b':
            if ((d = number(optarg)) < 0 || d > 1e9 || d != (double)(size_t)d) {
                rc = usage_error("bad -b \"%s\": expected a byte count", optarg);
                goto out;
            }
            lo.body_bytes = (size_t)d;
            break;
        default:
            rc = usage_error("%s", "bad option");
            goto out;
        }
    }
    o.macros = macros;
    o.to = to;
    lo.timeout_ms = o.timeout_ms;
    lo.json = json;
    if (stats_url) {
        rc = optind == argc ? stats_run(stats_url, interval, o.timeout_ms)
                            : usage_error("unexpected argument \"%s\" with --stats", argv[optind]);
        goto out;
    }
    if (!o.spec) {
        rc = usage_error("%s", "missing -s SPEC (the milter address)");
        goto out;
    }
    if (load) {
        if (optind != argc) {
            rc = usage_error("unexpected argument \"%s\" with --load", argv[optind]);
            goto out;
        }
        if (o.nto > 1) {
            rc = usage_error("%s", "--load takes one --to");
            goto out;
        }
        char *f = bracket(o.from ? o.from : "load-from@example.com");
        char *t = bracket(o.nto ? o.to[0] : "load-to@example.com");
        lo.from = f;
        lo.to = t;
        rc = load_run(&lo);
        free(f);
        free(t);
        goto out;
    }
    if (optind + 1 != argc) {
        rc = usage_error("%s", optind == argc ? "missing the message file (MAIL.eml)" : "more than one message file");
        goto out;
    }
    eml_t m;
    char err[512];
    if (eml_load(&m, argv[optind], err, sizeof err) < 0) {
        fprintf(stderr, "pmilter-client: %s\n", err);
        rc = EX_NOINPUT;
        goto out;
    }
    play_result_t r;
    rc = play_run(&o, &m, &r);
    cbuf_t out = {0};
    if (json)
        report_json(&out, &o, &r);
    else
        report_text(&out, &o, &r);
    fwrite(out.p, 1, out.len, stdout);
    cbuf_free(&out);
    play_result_free(&r);
    eml_free(&m);
out:
    for (size_t i = 0; i < o.nmacros; i++) {
        free(macros[i].name);
        free(macros[i].value);
    }
    free(macros);
    free(to);
    return rc;
}
