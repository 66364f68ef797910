/*++
 * bench-rules-baseline - a plain C libmilter content filter on PCRE2 with its JIT,
 * the yardstick of the "rules" bench scenario (bench/rules.sh)
 *
 * SYNOPSIS
 *   bench-rules-baseline RULES.txt unix:/path
 * DESCRIPTION
 *   Reads the rules (SCORE WHERE PATTERN; WHERE is body or a header name), compiles
 *   each once with PCRE2 and JIT-compiles it. Per message it keeps the first value of
 *   every header a rule names and the body (up to 1 MiB), and at eom sums the scores
 *   of the rules that match, adds "X-Spam-Score: N" and rejects at 10 or more: what
 *   pmilter's generated eom handler does. One match data per worker thread; the body's
 *   UTF-8 is checked once, not by each of its rules (as pmilter does). Prints
 *   "us N" per message: the wall-clock microseconds of the rule loop.
 * DIAGNOSTICS
 *   Exit 64 on bad arguments or a rule PCRE2 refuses, 1 when libmilter refuses.
 *--*/
#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <libmilter/mfapi.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_RULES 512
#define MAX_HEADERS 32
#define BODY_MAX (1024 * 1024)

typedef struct {
    int score;
    int header; /* index into header_names, -1 for the body */
    pcre2_code *code;
} rule_t;

static rule_t rules[MAX_RULES];
static int nrules;
static char *header_names[MAX_HEADERS];
static int nheaders;

typedef struct {
    char *values[MAX_HEADERS]; /* first occurrence of each named header */
    char *body;
    size_t body_len;
} msg_t;

static _Thread_local pcre2_match_data *match_data;

static int header_index(const char *name, int add)
{
    for (int i = 0; i < nheaders; i++)
        if (strcasecmp(header_names[i], name) == 0)
            return i;
    if (!add || nheaders == MAX_HEADERS)
        return -1;
    header_names[nheaders] = strdup(name);
    return nheaders++;
}

static int load_rules(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[1024], where[128];
    int score, off;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f) && nrules < MAX_RULES) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if (sscanf(line, "%d %127s %n", &score, where, &off) != 2)
            return -1;
        int err;
        PCRE2_SIZE erroff;
        pcre2_code *code = pcre2_compile((PCRE2_SPTR)(line + off), PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_MULTILINE, &err, &erroff, NULL);
        if (!code) {
            fprintf(stderr, "bench-rules-baseline: %s: PCRE2 error %d at %zu\n", line + off, err, erroff);
            return -1;
        }
        pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
        rules[nrules++] = (rule_t){score, strcmp(where, "body") == 0 ? -1 : header_index(where, 1), code};
    }
    fclose(f);
    return 0;
}

static msg_t *msg_of(SMFICTX *ctx)
{
    msg_t *m = smfi_getpriv(ctx);
    if (!m) {
        m = calloc(1, sizeof *m);
        smfi_setpriv(ctx, m);
    }
    return m;
}

static void msg_reset(SMFICTX *ctx)
{
    msg_t *m = smfi_getpriv(ctx);
    if (!m)
        return;
    for (int i = 0; i < nheaders; i++)
        free(m->values[i]);
    free(m->body);
    free(m);
    smfi_setpriv(ctx, NULL);
}

static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
    msg_t *m = msg_of(ctx);
    int i = header_index(name, 0);
    if (i >= 0 && !m->values[i])
        m->values[i] = strdup(value);
    return SMFIS_CONTINUE;
}

static sfsistat on_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    msg_t *m = msg_of(ctx);
    if (m->body_len + len > BODY_MAX)
        len = BODY_MAX - m->body_len;
    m->body = realloc(m->body, m->body_len + len + 1);
    memcpy(m->body + m->body_len, chunk, len);
    m->body_len += len;
    return SMFIS_CONTINUE;
}

/* valid: s is known to be valid UTF-8, so PCRE2 may skip its own check. */
static int matches(const rule_t *r, const char *s, size_t len, int valid)
{
    if (!match_data)
        match_data = pcre2_match_data_create(32, NULL);
    return pcre2_match(r->code, (PCRE2_SPTR)s, len, 0, valid ? PCRE2_NO_UTF_CHECK : 0, match_data, NULL) >= 0;
}

static pcre2_code *empty; /* compiled in main: matching it checks a subject's UTF-8 */

/* UTF-8 validity of a subject, checked once (by PCRE2, matching an empty pattern) for all its rules. */
static int valid_utf8(const char *s, size_t len)
{
    if (!match_data)
        match_data = pcre2_match_data_create(32, NULL);
    return pcre2_match(empty, (PCRE2_SPTR)s, len, 0, 0, match_data, NULL) >= 0;
}

static sfsistat on_eom(SMFICTX *ctx)
{
    msg_t *m = msg_of(ctx);
    int score = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int body_valid = valid_utf8(m->body ? m->body : "", m->body_len);
    for (int i = 0; i < nrules; i++) {
        const rule_t *r = &rules[i];
        const char *s = r->header < 0 ? (m->body ? m->body : "") : m->values[r->header];
        size_t len = r->header < 0 ? m->body_len : (s ? strlen(s) : 0);
        if (s && matches(r, s, len, r->header < 0 && body_valid))
            score += r->score;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("us %ld\n", (t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000);
    fflush(stdout);
    char v[16];
    snprintf(v, sizeof v, "%d", score);
    smfi_addheader(ctx, "X-Spam-Score", v);
    msg_reset(ctx);
    return score >= 10 ? SMFIS_REJECT : SMFIS_CONTINUE;
}

static sfsistat on_close(SMFICTX *ctx)
{
    msg_reset(ctx);
    return SMFIS_CONTINUE;
}

int main(int argc, char **argv)
{
    if (argc != 3 || strncmp(argv[2], "unix:", 5) != 0 || load_rules(argv[1]) != 0) {
        fprintf(stderr, "usage: bench-rules-baseline RULES.txt unix:/path\n");
        return 64;
    }
    int err;
    PCRE2_SIZE off;
    empty = pcre2_compile((PCRE2_SPTR) "", 0, PCRE2_UTF, &err, &off, NULL);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", argv[2] + 5);
    unlink(sun.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0 || listen(fd, 128) != 0) {
        fprintf(stderr, "bench-rules-baseline: %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    struct smfiDesc desc = {
        .xxfi_name = "bench-rules-baseline",
        .xxfi_version = SMFI_VERSION,
        .xxfi_flags = SMFIF_ADDHDRS,
        .xxfi_header = on_header,
        .xxfi_body = on_body,
        .xxfi_eom = on_eom,
        .xxfi_abort = on_close,
        .xxfi_close = on_close,
    };
    char conn[32];
    snprintf(conn, sizeof conn, "fd:%d", fd);
    if (smfi_register(desc) != MI_SUCCESS || smfi_setconn(conn) != MI_SUCCESS)
        return 1;
    int rc = smfi_main();
    unlink(sun.sun_path);
    return rc == MI_SUCCESS ? 0 : 1;
}
