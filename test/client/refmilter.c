/*++
 * refmilter - a small libmilter milter steered by argv, for testing pmilter-client
 *
 * SYNOPSIS
 *   refmilter -p SPEC [--log FILE] [--body-out FILE] [--verdict PHASE=VERDICT ...]
 *             [--reply PHASE=CODE XCODE TEXT[|LINE...]] [--reject-rcpt ADDR]
 *             [--addheader NAME=VALUE] [--insheader IDX:NAME=VALUE] [--chgheader IDX:NAME=VALUE]
 *             [--chgfrom "ADDR [ARGS]"] [--addrcpt ADDR] [--addrcpt-par "ADDR ARGS"] [--delrcpt ADDR]
 *             [--replbody TEXT] [--quarantine REASON] [--progress N]
 *             [--no PHASE,...] [--nr PHASE,...] [--skip-body] [--leadspc] [--symlist STAGE=LIST]
 *             [--exit-at PHASE] [--sleep-at PHASE=SECONDS] [--macro NAME]
 *   refmilter -p unix:/path --raw garbage|early-action
 * DESCRIPTION
 *   Verdicts: continue reject tempfail discard accept skip noreply. Modifications run at eom in argv
 *   order. --replbody "\n" escapes become newlines; "@N" makes an N-byte body. --log writes one
 *   line per event (phase, arguments, macros) so tests can check what the client sent.
 *   --raw skips libmilter and misbehaves on purpose: garbage answers option negotiation with a
 *   4 GB frame length; early-action negotiates, then answers connect with an add-header action.
 *--*/
#include <arpa/inet.h>
#include <getopt.h>
#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum { P_CONNECT, P_HELO, P_ENVFROM, P_ENVRCPT, P_DATA, P_HEADER, P_EOH, P_BODY, P_EOM, NP };
static const char *const pname[NP] = {"connect", "helo", "envfrom", "envrcpt", "data", "header", "eoh", "body", "eom"};
static const unsigned long pno[NP] = {SMFIP_NOCONNECT, SMFIP_NOHELO, SMFIP_NOMAIL, SMFIP_NORCPT, SMFIP_NODATA,
                                      SMFIP_NOHDRS,    SMFIP_NOEOH,  SMFIP_NOBODY, 0};
static const unsigned long pnr[NP] = {SMFIP_NR_CONN, SMFIP_NR_HELO, SMFIP_NR_MAIL, SMFIP_NR_RCPT, SMFIP_NR_DATA,
                                      SMFIP_NR_HDR,  SMFIP_NR_EOH,  SMFIP_NR_BODY, 0};

static sfsistat verdict[NP];    /* per phase */
static char *reply[NP];         /* "CODE XCODE TEXT|LINE2..." */
static int exit_at = -1, sleep_at = -1, sleep_s;
static unsigned long want_proto; /* NO, NR, SKIP, LEADSPC flags to negotiate */
static int skip_body;
static const char *reject_rcpt;
static FILE *logfp, *bodyf;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *macros[64] = {"j", "_", "v", "{daemon_name}", "{daemon_addr}", "{client_addr}", "{client_name}",
                                 "{client_port}", "i", "{mail_addr}", "{mail_host}", "{rcpt_addr}", "{rcpt_host}",
                                 "{auth_type}"};
static int nmacros = 14;
static struct {
    int stage;
    char *list;
} symlists[8];
static int nsymlists;

enum { M_ADDHDR, M_INSHDR, M_CHGHDR, M_CHGFROM, M_ADDRCPT, M_ADDRCPT_PAR, M_DELRCPT, M_REPLBODY, M_QUAR, M_PROGRESS };
static struct {
    int kind;
    char *arg;
} mods[64];
static int nmods;

static int phase_of(const char *s, size_t n)
{
    for (int i = 0; i < NP; i++)
        if (strlen(pname[i]) == n && strncmp(pname[i], s, n) == 0)
            return i;
    fprintf(stderr, "refmilter: unknown phase %.*s\n", (int)n, s);
    exit(64);
}

static void logline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logline(const char *fmt, ...)
{
    if (!logfp)
        return;
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&log_lock);
    vfprintf(logfp, fmt, ap);
    fputc('\n', logfp);
    fflush(logfp);
    pthread_mutex_unlock(&log_lock);
    va_end(ap);
}

/* Escapes CR and LF so a value stays on one log line; returns a static-per-call buffer (caller frees). */
static char *esc(const char *s)
{
    char *o = malloc(strlen(s) * 2 + 1), *p = o;
    for (; *s; s++) {
        if (*s == '\n')
            *p++ = '\\', *p++ = 'n';
        else if (*s == '\r')
            *p++ = '\\', *p++ = 'r';
        else
            *p++ = *s;
    }
    *p = 0;
    return o;
}

static void log_macros(SMFICTX *ctx, int ph)
{
    for (int i = 0; i < nmacros; i++) {
        const char *v = smfi_getsymval(ctx, (char *)macros[i]);
        if (v)
            logline("macro %s %s=%s", pname[ph], macros[i], v);
    }
}

/* Common end of every callback: exit, sleep, reply text, verdict. */
static sfsistat finish(SMFICTX *ctx, int ph)
{
    log_macros(ctx, ph);
    if (ph == exit_at) {
        logline("exit at %s", pname[ph]);
        _exit(0);
    }
    if (ph == sleep_at)
        sleep((unsigned)sleep_s);
    sfsistat v = verdict[ph];
    if (want_proto & pnr[ph])
        return SMFIS_NOREPLY;
    if (reply[ph] && (v == SMFIS_REJECT || v == SMFIS_TEMPFAIL)) {
        char buf[2048], *lines[8];
        snprintf(buf, sizeof buf, "%s", reply[ph]);
        char *code = strtok(buf, " "), *xcode = strtok(NULL, " "), *text = strtok(NULL, "");
        int n = 0;
        for (char *l = strtok(text, "|"); l && n < 7; l = strtok(NULL, "|"))
            lines[n++] = l;
        lines[n] = NULL;
        int rc = n <= 1 ? smfi_setreply(ctx, code, xcode, n ? lines[0] : NULL)
                        : smfi_setmlreply(ctx, code, xcode, lines[0], lines[1], n > 2 ? lines[2] : NULL,
                                          n > 3 ? lines[3] : NULL, n > 4 ? lines[4] : NULL, n > 5 ? lines[5] : NULL,
                                          n > 6 ? lines[6] : NULL, (char *)NULL);
        if (rc != MI_SUCCESS)
            logline("setreply failed at %s", pname[ph]);
    }
    return v;
}

static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2, unsigned long f3,
                             unsigned long *pf0, unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    (void)f2, (void)f3;
    logline("negotiate offered actions=0x%lx protocol=0x%lx", f0, f1);
    *pf0 = f0;
    *pf1 = want_proto & f1;
    *pf2 = *pf3 = 0;
    for (int i = 0; i < nsymlists; i++)
        if (smfi_setsymlist(ctx, symlists[i].stage, symlists[i].list) != MI_SUCCESS)
            logline("setsymlist failed");
    return SMFIS_CONTINUE;
}

static sfsistat cb_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    char addr[128] = "-";
    int port = 0;
    char fam = 'U';
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, addr, sizeof addr);
        port = ntohs(in->sin_port);
        fam = '4';
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof addr);
        port = ntohs(in6->sin6_port);
        fam = '6';
    } else if (sa && sa->sa_family == AF_UNIX) {
        snprintf(addr, sizeof addr, "%s", ((const struct sockaddr_un *)sa)->sun_path);
        fam = 'L';
    }
    logline("connect %s %c %s %d", host, fam, addr, port);
    return finish(ctx, P_CONNECT);
}

static sfsistat cb_helo(SMFICTX *ctx, char *helo)
{
    logline("helo %s", helo);
    return finish(ctx, P_HELO);
}

static void log_env(const char *what, char **argv)
{
    char buf[2048] = "";
    for (int i = 1; argv[i]; i++) {
        strncat(buf, " ", sizeof buf - strlen(buf) - 1);
        strncat(buf, argv[i], sizeof buf - strlen(buf) - 1);
    }
    logline("%s %s%s", what, argv[0], buf);
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
    log_env("envfrom", argv);
    return finish(ctx, P_ENVFROM);
}

static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
    log_env("envrcpt", argv);
    if (reject_rcpt && strcmp(argv[0], reject_rcpt) == 0) {
        log_macros(ctx, P_ENVRCPT);
        smfi_setreply(ctx, "550", "5.1.1", "no such user");
        return SMFIS_REJECT;
    }
    return finish(ctx, P_ENVRCPT);
}

static sfsistat cb_data(SMFICTX *ctx)
{
    logline("data");
    return finish(ctx, P_DATA);
}

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
    char *e = esc(value);
    logline("header %s=%s", name, e);
    free(e);
    return finish(ctx, P_HEADER);
}

static sfsistat cb_eoh(SMFICTX *ctx)
{
    logline("eoh");
    return finish(ctx, P_EOH);
}

static sfsistat cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    logline("body %zu", len);
    if (bodyf) {
        pthread_mutex_lock(&log_lock);
        fwrite(chunk, 1, len, bodyf);
        fflush(bodyf);
        pthread_mutex_unlock(&log_lock);
    }
    if (skip_body) {
        log_macros(ctx, P_BODY);
        return SMFIS_SKIP;
    }
    return finish(ctx, P_BODY);
}

static void split2(const char *s, char sep, char **a, char **b)
{
    const char *p = strchr(s, sep);
    *a = p ? strndup(s, (size_t)(p - s)) : strdup(s);
    *b = p ? strdup(p + 1) : NULL;
}

static void replbody(SMFICTX *ctx, const char *arg)
{
    size_t n;
    char *b;
    if (arg[0] == '@') {
        n = strtoul(arg + 1, NULL, 10);
        b = malloc(n + 1);
        for (size_t i = 0; i < n; i++)
            b[i] = i % 60 == 58 ? '\r' : i % 60 == 59 ? '\n' : (char)('A' + i % 26);
    } else {
        b = malloc(strlen(arg) * 2 + 1);
        n = 0;
        for (const char *p = arg; *p; p++) {
            if (p[0] == '\\' && p[1] == 'n') {
                b[n++] = '\r', b[n++] = '\n';
                p++;
            } else {
                b[n++] = *p;
            }
        }
    }
    /* libmilter splits large bodies into chunks itself. */
    if (smfi_replacebody(ctx, (unsigned char *)b, (int)n) != MI_SUCCESS)
        logline("replacebody failed");
    free(b);
}

static sfsistat cb_eom(SMFICTX *ctx)
{
    logline("eom");
    for (int i = 0; i < nmods; i++) {
        char *a, *b;
        int rc = MI_SUCCESS;
        switch (mods[i].kind) {
        case M_ADDHDR:
            split2(mods[i].arg, '=', &a, &b);
            rc = smfi_addheader(ctx, a, b ? b : "");
            break;
        case M_INSHDR:
        case M_CHGHDR: {
            int idx = atoi(mods[i].arg);
            const char *rest = strchr(mods[i].arg, ':');
            split2(rest ? rest + 1 : "", '=', &a, &b);
            rc = mods[i].kind == M_INSHDR ? smfi_insheader(ctx, idx, a, b ? b : "")
                                          : smfi_chgheader(ctx, a, idx, b && *b ? b : NULL);
            break;
        }
        case M_CHGFROM:
            split2(mods[i].arg, ' ', &a, &b);
            rc = smfi_chgfrom(ctx, a, b);
            break;
        case M_ADDRCPT:
            a = strdup(mods[i].arg), b = NULL;
            rc = smfi_addrcpt(ctx, a);
            break;
        case M_ADDRCPT_PAR:
            split2(mods[i].arg, ' ', &a, &b);
            rc = smfi_addrcpt_par(ctx, a, b);
            break;
        case M_DELRCPT:
            a = strdup(mods[i].arg), b = NULL;
            rc = smfi_delrcpt(ctx, a);
            break;
        case M_REPLBODY:
            a = b = NULL;
            replbody(ctx, mods[i].arg);
            break;
        case M_QUAR:
            a = strdup(mods[i].arg), b = NULL;
            rc = smfi_quarantine(ctx, a);
            break;
        case M_PROGRESS:
            a = b = NULL;
            for (int k = atoi(mods[i].arg); k > 0; k--)
                rc = smfi_progress(ctx);
            break;
        default:
            a = b = NULL;
        }
        if (rc != MI_SUCCESS)
            logline("modification %d failed", mods[i].kind);
        free(a);
        free(b);
    }
    return finish(ctx, P_EOM);
}

static sfsistat cb_abort(SMFICTX *ctx)
{
    (void)ctx;
    logline("abort");
    return SMFIS_CONTINUE;
}

static sfsistat cb_close(SMFICTX *ctx)
{
    (void)ctx;
    logline("close");
    return SMFIS_CONTINUE;
}

/* --raw: a broken milter without libmilter. */
static int raw_milter(const char *spec, const char *mode)
{
    const char *path = strchr(spec, ':') ? strchr(spec, ':') + 1 : spec;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    unlink(path);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&sun, sizeof sun) < 0 || listen(l, 8) < 0) {
        perror("refmilter: raw listen");
        return 1;
    }
    for (;;) {
        int fd = accept(l, NULL, NULL);
        if (fd < 0)
            continue;
        unsigned char buf[4096];
        if (read(fd, buf, sizeof buf) <= 0) { /* option negotiation */
            close(fd);
            continue;
        }
        if (strcmp(mode, "garbage") == 0) {
            static const unsigned char bad[] = {0xff, 0xff, 0xff, 0xff, 'O'};
            (void)!write(fd, bad, sizeof bad);
        } else {
            static const unsigned char opt[] = {0, 0, 0, 13, 'O', 0, 0, 0, 6, 0, 0, 1, 0xff, 0, 0, 0, 0};
            (void)!write(fd, opt, sizeof opt);
            if (read(fd, buf, sizeof buf) > 0) { /* macros + connect */
                static const unsigned char act[] = {0, 0, 0, 5, 'h', 'X', 0, 'y', 0, 0, 0, 0, 1, 'c'};
                (void)!write(fd, act, sizeof act);
            }
        }
        sleep(1);
        close(fd);
    }
}

int main(int argc, char **argv)
{
    enum { O_LOG = 256, O_BODYOUT, O_VERDICT, O_REPLY, O_REJRCPT, O_NO, O_NR, O_SKIPBODY, O_LEADSPC, O_SYMLIST, O_EXITAT,
           O_SLEEPAT, O_MACRO, O_RAW };
    static const struct option lo[] = {
        {"log", 1, 0, O_LOG},           {"body-out", 1, 0, O_BODYOUT},      {"verdict", 1, 0, O_VERDICT},
        {"reply", 1, 0, O_REPLY},       {"reject-rcpt", 1, 0, O_REJRCPT},   {"no", 1, 0, O_NO},
        {"nr", 1, 0, O_NR},             {"skip-body", 0, 0, O_SKIPBODY},    {"leadspc", 0, 0, O_LEADSPC},
        {"symlist", 1, 0, O_SYMLIST},   {"exit-at", 1, 0, O_EXITAT},        {"sleep-at", 1, 0, O_SLEEPAT},
        {"macro", 1, 0, O_MACRO},       {"raw", 1, 0, O_RAW},               {"addheader", 1, 0, 1000 + M_ADDHDR},
        {"insheader", 1, 0, 1000 + M_INSHDR}, {"chgheader", 1, 0, 1000 + M_CHGHDR}, {"chgfrom", 1, 0, 1000 + M_CHGFROM},
        {"addrcpt", 1, 0, 1000 + M_ADDRCPT},  {"addrcpt-par", 1, 0, 1000 + M_ADDRCPT_PAR},
        {"delrcpt", 1, 0, 1000 + M_DELRCPT},  {"replbody", 1, 0, 1000 + M_REPLBODY},
        {"quarantine", 1, 0, 1000 + M_QUAR},  {"progress", 1, 0, 1000 + M_PROGRESS},
        {0, 0, 0, 0}};
    static const struct {
        const char *name;
        sfsistat v;
    } vnames[] = {{"continue", SMFIS_CONTINUE}, {"reject", SMFIS_REJECT}, {"tempfail", SMFIS_TEMPFAIL},
                  {"discard", SMFIS_DISCARD},   {"accept", SMFIS_ACCEPT}, {"skip", SMFIS_SKIP}};
    const char *spec = NULL, *raw = NULL;
    int opt;
    for (int i = 0; i < NP; i++)
        verdict[i] = SMFIS_CONTINUE;
    while ((opt = getopt_long(argc, argv, "p:", lo, NULL)) != -1) {
        const char *eq = optarg ? strchr(optarg, '=') : NULL;
        switch (opt) {
        case 'p':
            spec = optarg;
            break;
        case O_LOG:
            logfp = fopen(optarg, "a");
            break;
        case O_BODYOUT:
            bodyf = fopen(optarg, "w");
            break;
        case O_VERDICT: {
            if (!eq)
                return 64;
            int ph = phase_of(optarg, (size_t)(eq - optarg)), found = 0;
            for (size_t k = 0; k < sizeof vnames / sizeof vnames[0]; k++)
                if (strcmp(vnames[k].name, eq + 1) == 0)
                    verdict[ph] = vnames[k].v, found = 1;
            if (!found)
                return 64;
            break;
        }
        case O_REPLY:
            if (!eq)
                return 64;
            reply[phase_of(optarg, (size_t)(eq - optarg))] = strdup(eq + 1);
            break;
        case O_REJRCPT:
            reject_rcpt = optarg;
            break;
        case O_NO:
        case O_NR:
            for (const char *p = optarg; *p;) {
                size_t n = strcspn(p, ",");
                int ph = phase_of(p, n);
                want_proto |= opt == O_NO ? pno[ph] : pnr[ph];
                p += n + (p[n] == ',');
            }
            break;
        case O_SKIPBODY:
            skip_body = 1;
            want_proto |= SMFIP_SKIP;
            break;
        case O_LEADSPC:
            want_proto |= SMFIP_HDR_LEADSPC;
            break;
        case O_SYMLIST:
            if (!eq || nsymlists == 8)
                return 64;
            symlists[nsymlists].stage = atoi(optarg);
            symlists[nsymlists++].list = strdup(eq + 1);
            break;
        case O_EXITAT:
            exit_at = phase_of(optarg, strlen(optarg));
            break;
        case O_SLEEPAT:
            if (!eq)
                return 64;
            sleep_at = phase_of(optarg, (size_t)(eq - optarg));
            sleep_s = atoi(eq + 1);
            break;
        case O_MACRO:
            if (nmacros < 63)
                macros[nmacros++] = optarg;
            break;
        case O_RAW:
            raw = optarg;
            break;
        default:
            if (opt >= 1000 && nmods < 64) {
                mods[nmods].kind = opt - 1000;
                mods[nmods++].arg = optarg;
                break;
            }
            fprintf(stderr, "usage: see the header of test/client/refmilter.c\n");
            return 64;
        }
    }
    if (!spec) {
        fprintf(stderr, "refmilter: -p SPEC required\n");
        return 64;
    }
    if (raw)
        return raw_milter(spec, raw);
    struct smfiDesc desc = {
        .xxfi_name = "refmilter",
        .xxfi_version = SMFI_VERSION,
        .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_CHGHDRS | SMFIF_QUARANTINE |
                      SMFIF_CHGFROM | SMFIF_ADDRCPT_PAR | SMFIF_SETSYMLIST,
        .xxfi_connect = cb_connect,
        .xxfi_helo = cb_helo,
        .xxfi_envfrom = cb_envfrom,
        .xxfi_envrcpt = cb_envrcpt,
        .xxfi_header = cb_header,
        .xxfi_eoh = cb_eoh,
        .xxfi_body = cb_body,
        .xxfi_eom = cb_eom,
        .xxfi_abort = cb_abort,
        .xxfi_close = cb_close,
        .xxfi_data = cb_data,
        .xxfi_negotiate = cb_negotiate,
    };
    if (smfi_setconn((char *)spec) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS || smfi_opensocket(1) != MI_SUCCESS) {
        fprintf(stderr, "refmilter: cannot listen on %s\n", spec);
        return 1;
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
