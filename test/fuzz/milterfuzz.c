/* milterfuzz: a frame-level fuzzer for a running milter (pmilter under ASan in CI).
 *
 * It plays the MTA side with hostile traffic for a bounded time: recorded seed
 * sessions (test/fuzz/seeds, *.txt) mutated frame by frame, splices of two seeds,
 * random frames, and named edge cases (length 0 and 2^31-1, unknown commands,
 * out-of-order commands, odd macros, NULs and megabyte headers, 10,000
 * recipients, body chunks of any size, disconnects anywhere, parked idle
 * sessions). Several threads run at once.
 *
 * Reproducible: every connection draws from its own generator, seeded from
 * (--seed, thread, connection number), so `--seed N --only T:C --dump FILE`
 * replays one connection and writes its bytes. Replies are read and counted,
 * never used to steer, so the bytes sent do not depend on timing.
 *
 * Output: one summary line with executions and time. Exit 0 when the run
 * finished, 2 when the milter stopped accepting connections (it died or hung),
 * 64 on a usage error. --log FILE records one line per connection. */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#define MAX_PARKED 48
#define STALL_MS 5000 /* no progress for this long while sending: give up on the connection */

typedef struct {
    unsigned char *p;
    size_t len, cap;
} bytes_t;

typedef struct {
    int cmd;    /* command letter; -1: payload is raw bytes sent without framing */
    bytes_t pl; /* payload (without the length and the letter) */
} frame_t;

typedef struct {
    frame_t *f;
    size_t n, cap;
    char name[64];
} script_t;

static script_t *seeds;
static size_t n_seeds;
static const char *spec;
static uint64_t base_seed;
static double seconds = 10;
static int n_threads = 4;
static FILE *log_fp;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int server_gone;
static struct timespec t_start;
static atomic_ullong st_conns, st_frames, st_bytes, st_replies, st_closed_early, st_stalls, st_connect_retries;

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("milterfuzz: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(64);
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fputs("milterfuzz: out of memory\n", stderr);
        abort();
    }
    return p;
}

static double elapsed(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t_start.tv_sec) + (double)(t.tv_nsec - t_start.tv_nsec) / 1e9;
}

/* ---- random numbers: splitmix64, one state per connection ---- */
static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static size_t rnd(uint64_t *s, size_t n) { return n ? (size_t)(next(s) % n) : 0; }
static int chance(uint64_t *s, int percent) { return (int)rnd(s, 100) < percent; }

/* ---- byte strings and scripts ---- */
static void b_put(bytes_t *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 16;
        b->p = xrealloc(b->p, b->cap);
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}
static void b_str(bytes_t *b, const char *s) { b_put(b, s, strlen(s) + 1); } /* with its NUL */
static void b_fill(bytes_t *b, size_t n, uint64_t *r)
{
    static const char text[] = "Hello http://example.com/x?a=b viagra =?utf-8?b?aGk=?= \r\n.\r\n\t";
    size_t start = b->len;
    b_put(b, NULL, 0);
    if (b->len + n > b->cap) {
        b->cap = b->len + n + 16;
        b->p = xrealloc(b->p, b->cap);
    }
    int binary = chance(r, 30);
    for (size_t i = 0; i < n; i++)
        b->p[start + i] = binary ? (unsigned char)next(r) : (unsigned char)text[(i + start) % (sizeof text - 1)];
    b->len += n;
}

static frame_t *s_insert(script_t *s, size_t at, int cmd)
{
    if (s->n == s->cap) {
        s->cap = s->cap * 2 + 8;
        s->f = xrealloc(s->f, s->cap * sizeof *s->f);
    }
    if (at > s->n)
        at = s->n;
    memmove(s->f + at + 1, s->f + at, (s->n - at) * sizeof *s->f);
    s->n++;
    s->f[at] = (frame_t){.cmd = cmd};
    return &s->f[at];
}
static frame_t *s_add(script_t *s, int cmd) { return s_insert(s, s->n, cmd); }
static void s_remove(script_t *s, size_t at)
{
    free(s->f[at].pl.p);
    memmove(s->f + at, s->f + at + 1, (s->n - at - 1) * sizeof *s->f);
    s->n--;
}
static void s_copy(script_t *dst, const script_t *src, size_t from, size_t to)
{
    for (size_t i = from; i < to && i < src->n; i++) {
        frame_t *f = s_add(dst, src->f[i].cmd);
        b_put(&f->pl, src->f[i].pl.p, src->f[i].pl.len);
    }
}
static void s_free(script_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->f[i].pl.p);
    free(s->f);
    memset(s, 0, sizeof *s);
}

/* ---- seed files: "# comment", else a command letter (escapes allowed), one space, the payload with
 * escapes \\ \n \r \t \xHH; everything else is literal. record.py writes this format. */
static size_t unescape(const char *in, size_t n, unsigned char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] != '\\' || i + 1 == n) {
            out[o++] = (unsigned char)in[i];
            continue;
        }
        char c = in[++i];
        if (c == 'n')
            out[o++] = '\n';
        else if (c == 'r')
            out[o++] = '\r';
        else if (c == 't')
            out[o++] = '\t';
        else if (c == 'x' && i + 2 < n + 0) {
            char hex[3] = {in[i + 1], in[i + 2], 0};
            out[o++] = (unsigned char)strtoul(hex, NULL, 16);
            i += 2;
        } else
            out[o++] = (unsigned char)c;
    }
    return o;
}

static void load_seeds(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        die("cannot open seed directory %s: %s", dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t nl = strlen(e->d_name);
        if (nl < 5 || strcmp(e->d_name + nl - 4, ".txt"))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *fp = fopen(path, "r");
        if (!fp)
            die("cannot read %s: %s", path, strerror(errno));
        seeds = xrealloc(seeds, (n_seeds + 1) * sizeof *seeds);
        script_t *s = &seeds[n_seeds++];
        memset(s, 0, sizeof *s);
        snprintf(s->name, sizeof s->name, "%s", e->d_name);
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        while ((len = getline(&line, &cap, fp)) > 0) {
            while (len > 0 && line[len - 1] == '\n')
                len--;
            if (len == 0 || line[0] == '#')
                continue;
            char *sp = memchr(line, ' ', (size_t)len);
            size_t clen = sp ? (size_t)(sp - line) : (size_t)len;
            unsigned char cmd[8];
            if (clen == 0 || clen > 4 || unescape(line, clen, cmd) != 1)
                die("%s: bad command in line: %.*s", path, (int)(len > 40 ? 40 : len), line);
            frame_t *f = s_add(s, cmd[0]);
            if (sp) {
                size_t plen = (size_t)len - clen - 1;
                unsigned char *tmp = xrealloc(NULL, plen + 1);
                b_put(&f->pl, tmp, unescape(sp + 1, plen, tmp));
                free(tmp);
            }
        }
        free(line);
        fclose(fp);
    }
    closedir(d);
    if (n_seeds == 0)
        die("no seeds (*.txt) in %s", dir);
    /* readdir order is not stable across file systems: sort by name so a seed number means the same run */
    for (size_t i = 1; i < n_seeds; i++)
        for (size_t j = i; j > 0 && strcmp(seeds[j - 1].name, seeds[j].name) > 0; j--) {
            script_t t = seeds[j];
            seeds[j] = seeds[j - 1];
            seeds[j - 1] = t;
        }
}

/* ---- generation ---- */
static const char known_cmds[] = "ABCDEHKLMNOQRTU";

static void random_payload(bytes_t *b, uint64_t *r)
{
    size_t n = rnd(r, 8) == 0 ? rnd(r, 70000) : rnd(r, 64);
    b_fill(b, n, r);
    if (chance(r, 50))
        b_put(b, "", 1);
}

static size_t pick_size(uint64_t *r)
{
    static const size_t edges[] = {0, 1, 2, 3, 4, 5, 255, 256, 1023, 1024, 4095, 4096, 65531, 65532, 65534, 65535, 65536, 65537, 131072, 1048576};
    if (chance(r, 40))
        return edges[rnd(r, sizeof edges / sizeof edges[0])];
    return rnd(r, 70001);
}

static void odd_macro(frame_t *f, uint64_t *r)
{
    static const char *names[] = {"", "{", "}", "{}", "{x", "i", "j", "{auth_authen}", "{daemon_name}", "{client_addr}",
                                  "{mail_addr}", "{rcpt_addr}", "{tls_version}", "{cert_subject}", "_", "v", "{\xff\x01}"};
    unsigned char c = (unsigned char)(chance(r, 70) ? "CHMRTLNBEUA"[rnd(r, 11)] : (unsigned char)next(r));
    b_put(&f->pl, &c, 1);
    size_t k = rnd(r, 6);
    for (size_t i = 0; i < k; i++) {
        if (chance(r, 10)) {
            bytes_t n = {0};
            b_fill(&n, rnd(r, 3000), r);
            b_put(&f->pl, n.p, n.len);
            free(n.p);
            b_put(&f->pl, "", 1);
        } else
            b_str(&f->pl, names[rnd(r, sizeof names / sizeof names[0])]);
        if (chance(r, 85)) { /* a value; sometimes missing, making the list odd */
            b_fill(&f->pl, chance(r, 5) ? pick_size(r) : rnd(r, 40), r);
            if (chance(r, 90))
                b_put(&f->pl, "", 1);
        }
    }
}

static void add_raw(script_t *s, size_t at, uint64_t *r)
{
    static const uint32_t lens[] = {0, 1, 2, 5, 0x7fffffff, 0x80000000, 0xffffffff, 65535, 65536, 65537, 1048576, 0x7ffffffe};
    frame_t *f = s_insert(s, at, -1);
    uint32_t len = chance(r, 70) ? lens[rnd(r, sizeof lens / sizeof lens[0])] : (uint32_t)next(r);
    uint32_t be = htonl(len);
    size_t hdr = chance(r, 15) ? rnd(r, 4) : 4; /* sometimes only part of the length field */
    b_put(&f->pl, &be, hdr);
    if (hdr == 4) {
        unsigned char c = chance(r, 50) ? (unsigned char)known_cmds[rnd(r, sizeof known_cmds - 1)] : (unsigned char)next(r);
        b_put(&f->pl, &c, 1);
        b_fill(&f->pl, len > 1 && len < 70000 && chance(r, 50) ? len - 1 : rnd(r, 100), r);
    }
}

static void mutate(script_t *s, uint64_t *r, char *desc, size_t dlen)
{
    int m = (int)rnd(r, 19);
    size_t at = rnd(r, s->n + 1), i = s->n ? rnd(r, s->n) : 0;
    size_t dl = strlen(desc);
    snprintf(desc + dl, dlen - dl, " m%d", m);
    switch (m) {
    case 0: /* drop a frame */
        if (s->n)
            s_remove(s, i);
        break;
    case 1: /* duplicate a frame (eom twice, helo twice, ...) */
        if (s->n) {
            frame_t *f = s_insert(s, i + 1, s->f[i].cmd);
            b_put(&f->pl, s->f[i].pl.p, s->f[i].pl.len);
        }
        break;
    case 2: /* swap two frames */
        if (s->n > 1) {
            size_t j = rnd(r, s->n);
            frame_t t = s->f[i];
            s->f[i] = s->f[j];
            s->f[j] = t;
        }
        break;
    case 3: /* move a frame elsewhere (MAIL before negotiation, body before headers) */
        if (s->n > 1) {
            frame_t t = s->f[i];
            memmove(s->f + i, s->f + i + 1, (s->n - i - 1) * sizeof *s->f);
            s->n--;
            size_t to = rnd(r, s->n + 1);
            memmove(s->f + to + 1, s->f + to, (s->n - to) * sizeof *s->f);
            s->f[to] = t;
            s->n++;
        }
        break;
    case 4: /* truncate a payload (strings lose their NUL) */
        if (s->n)
            s->f[i].pl.len = rnd(r, s->f[i].pl.len + 1);
        break;
    case 5: /* flip bytes */
        if (s->n && s->f[i].pl.len)
            for (size_t k = 1 + rnd(r, 4); k > 0; k--)
                s->f[i].pl.p[rnd(r, s->f[i].pl.len)] ^= (unsigned char)(1u << rnd(r, 8));
        break;
    case 6: /* another or unknown command letter */
        if (s->n)
            s->f[i].cmd = chance(r, 50) ? known_cmds[rnd(r, sizeof known_cmds - 1)] : (int)(next(r) & 0xff);
        break;
    case 7: /* NULs into a payload, or random bytes appended */
        if (s->n) {
            bytes_t *b = &s->f[i].pl;
            if (b->len && chance(r, 50))
                b->p[rnd(r, b->len)] = 0;
            else
                b_fill(b, rnd(r, 16), r);
        }
        break;
    case 8: /* a raw frame with an odd length field */
        add_raw(s, at, r);
        break;
    case 9: /* hang up early, perhaps in the middle of a frame */
        while (s->n > at)
            s_remove(s, s->n - 1);
        if (s->n && chance(r, 50)) {
            frame_t *f = &s->f[s->n - 1];
            if (f->cmd >= 0) { /* turn the last frame into its first few bytes */
                bytes_t raw = {0};
                uint32_t be = htonl((uint32_t)f->pl.len + 1);
                unsigned char c = (unsigned char)f->cmd;
                b_put(&raw, &be, 4);
                b_put(&raw, &c, 1);
                b_put(&raw, f->pl.p, f->pl.len);
                raw.len = rnd(r, raw.len);
                free(f->pl.p);
                f->pl = raw;
                f->cmd = -1;
            }
        }
        break;
    case 10: { /* a header with NULs or a huge value */
        frame_t *f = s_insert(s, at, 'L');
        b_str(&f->pl, chance(r, 80) ? "Subject" : "X-\x01Odd Name:");
        b_fill(&f->pl, chance(r, 50) ? pick_size(r) : rnd(r, 100), r);
        if (chance(r, 50) && f->pl.len > 10)
            f->pl.p[8 + rnd(r, f->pl.len - 8)] = 0;
        if (chance(r, 80))
            b_put(&f->pl, "", 1);
        break;
    }
    case 11: { /* many recipients */
        size_t n = chance(r, 20) ? 10000 : rnd(r, 300);
        for (size_t k = 0; k < n; k++) {
            char a[64];
            snprintf(a, sizeof a, "<r%zu@%s.example>", k, chance(r, 1) ? "add" : "rcpt");
            b_str(&s_insert(s, at + k, 'R')->pl, a);
        }
        break;
    }
    case 12: /* a body chunk of some size */
        b_fill(&s_insert(s, at, 'B')->pl, pick_size(r), r);
        break;
    case 13: /* macros with odd names and binary values */
        odd_macro(s_insert(s, at, 'D'), r);
        break;
    case 14: { /* negotiation with odd numbers */
        static const uint32_t v[] = {0, 1, 2, 3, 4, 5, 6, 7, 0xffffffff};
        frame_t *f = s_insert(s, at, 'O');
        uint32_t w[3] = {htonl(v[rnd(r, 9)]), htonl((uint32_t)next(r)), htonl((uint32_t)next(r))};
        b_put(&f->pl, w, chance(r, 80) ? sizeof w : rnd(r, sizeof w));
        break;
    }
    case 15: { /* connect info with odd family, port and address */
        static const char fam[] = "46LU\0X";
        frame_t *f = s_insert(s, at, 'C');
        b_str(&f->pl, chance(r, 50) ? "host.example" : "");
        unsigned char fb = (unsigned char)fam[rnd(r, sizeof fam - 1)];
        b_put(&f->pl, &fb, 1);
        if (chance(r, 80)) {
            uint16_t port = (uint16_t)next(r);
            b_put(&f->pl, &port, chance(r, 80) ? 2 : 1);
        }
        static const char *addrs[] = {"127.0.0.1", "::1", "2001:db8::1", "IPv6:::1", "999.1.2.3", "/var/run/x", "", "1.2.3.4.5"};
        b_str(&f->pl, addrs[rnd(r, sizeof addrs / sizeof addrs[0])]);
        if (chance(r, 20))
            f->pl.len--;
        break;
    }
    case 16: { /* abort, quit or quit-new-connection anywhere */
        static const char c[] = "AQK";
        s_insert(s, at, c[rnd(r, 3)]);
        break;
    }
    case 17: /* the message part again: several messages per connection */
        if (s->n > 2) {
            size_t from = rnd(r, s->n), to = from + 1 + rnd(r, s->n - from);
            script_t copy = {0};
            s_copy(&copy, s, from, to);
            for (size_t k = 0; k < copy.n; k++) {
                frame_t *f = s_insert(s, to + k, copy.f[k].cmd);
                b_put(&f->pl, copy.f[k].pl.p, copy.f[k].pl.len);
            }
            s_free(&copy);
        }
        break;
    case 18: /* an unknown SMTP command or a HELO with odd text */
        b_fill(&s_insert(s, at, chance(r, 50) ? 'U' : 'H')->pl, chance(r, 10) ? pick_size(r) : rnd(r, 50), r);
        if (chance(r, 80))
            b_put(&s->f[at < s->n ? at : s->n - 1].pl, "", 1);
        break;
    }
}

/* Builds the script of one connection; desc gets a short description for the log. */
static void generate(script_t *s, uint64_t *r, char *desc, size_t dlen)
{
    int kind = (int)rnd(r, 100);
    if (kind < 65) {
        const script_t *seed = &seeds[rnd(r, n_seeds)];
        s_copy(s, seed, 0, seed->n);
        snprintf(desc, dlen, "mutate %s", seed->name);
        size_t k = chance(r, 5) ? 0 : 1 + rnd(r, chance(r, 20) ? 12 : 3);
        for (size_t i = 0; i < k; i++)
            mutate(s, r, desc, dlen);
    } else if (kind < 80) {
        const script_t *a = &seeds[rnd(r, n_seeds)], *b = &seeds[rnd(r, n_seeds)];
        s_copy(s, a, 0, rnd(r, a->n + 1));
        s_copy(s, b, rnd(r, b->n + 1), b->n);
        snprintf(desc, dlen, "splice %s %s", a->name, b->name);
        if (chance(r, 50))
            mutate(s, r, desc, dlen);
    } else if (kind < 92) {
        /* random frames, mostly known letters, often after a valid negotiation */
        snprintf(desc, dlen, "random");
        if (chance(r, 70))
            s_copy(s, &seeds[rnd(r, n_seeds)], 0, 2);
        for (size_t k = rnd(r, 40); k > 0; k--)
            random_payload(&s_add(s, chance(r, 85) ? known_cmds[rnd(r, sizeof known_cmds - 1)] : (int)(next(r) & 0xff))->pl, r);
    } else {
        /* a valid prefix, then a burst of one mutation kind */
        const script_t *seed = &seeds[rnd(r, n_seeds)];
        s_copy(s, seed, 0, seed->n);
        snprintf(desc, dlen, "burst %s", seed->name);
        for (size_t k = 2 + rnd(r, 30); k > 0; k--)
            mutate(s, r, desc, dlen);
    }
}

/* ---- the wire ---- */
static int dial(void)
{
    int fd;
    if (!strncmp(spec, "inet:", 5)) {
        char host[256] = "127.0.0.1";
        int port = atoi(spec + 5);
        const char *at = strchr(spec, '@');
        if (at)
            snprintf(host, sizeof host, "%s", at + 1);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        inet_pton(AF_INET, host, &a.sin_addr);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
            return fd;
    } else {
        const char *path = spec;
        if (!strncmp(path, "unix:", 5))
            path += 5;
        else if (!strncmp(path, "local:", 6))
            path += 6;
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
            return fd;
    }
    if (fd >= 0)
        close(fd);
    return -1;
}

typedef struct {
    int fd;
    unsigned char hdr[4];
    size_t hdr_got;   /* bytes of the current reply's length field */
    uint64_t skip;    /* bytes left of the current reply */
    int eof;
} conn_t;

/* Reads what is there and counts whole replies. Returns -1 on EOF or error. */
static int drain(conn_t *c)
{
    unsigned char buf[65536];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            c->eof = 1;
            return -1;
        }
        if (n < 0)
            return 0;
        for (ssize_t i = 0; i < n;) {
            if (c->skip) {
                size_t k = (size_t)n - (size_t)i < c->skip ? (size_t)n - (size_t)i : c->skip;
                c->skip -= k;
                i += (ssize_t)k;
                if (!c->skip)
                    st_replies++;
            } else {
                c->hdr[c->hdr_got++] = buf[i++];
                if (c->hdr_got == 4) {
                    uint32_t len;
                    memcpy(&len, c->hdr, 4);
                    c->skip = ntohl(len);
                    c->hdr_got = 0;
                    if (!c->skip)
                        st_replies++;
                }
            }
        }
    }
}

/* Sends n bytes, reading replies meanwhile so neither side blocks. 0 ok, -1 peer gone or stalled. */
static int send_all(conn_t *c, const unsigned char *p, size_t n)
{
    while (n) {
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN | POLLOUT};
        int pr = poll(&pfd, 1, STALL_MS);
        if (pr == 0) {
            st_stalls++;
            return -1;
        }
        if (pr < 0)
            continue;
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
            if (drain(c) < 0)
                return -1;
        if (pfd.revents & POLLOUT) {
            ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                return -1;
            if (w > 0) {
                p += w;
                n -= (size_t)w;
                st_bytes += (unsigned long long)w;
            }
        }
    }
    return 0;
}

/* Waits up to ms for replies (or EOF). */
static void wait_replies(conn_t *c, int ms)
{
    double until = elapsed() + ms / 1000.0;
    while (!c->eof) {
        int left = (int)((until - elapsed()) * 1000);
        if (left <= 0)
            return;
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        if (poll(&pfd, 1, left) <= 0)
            return;
        unsigned long long before = st_replies;
        drain(c);
        if (st_replies != before)
            return; /* something came: go on (eom's further frames are read later) */
    }
}

static int expects_reply(int cmd) { return cmd >= 0 && strchr("OCHMRLNBETU", cmd) != NULL; }

static void encode(bytes_t *out, const frame_t *f)
{
    out->len = 0;
    if (f->cmd < 0) {
        b_put(out, f->pl.p, f->pl.len);
        return;
    }
    uint32_t be = htonl((uint32_t)(f->pl.len + 1));
    unsigned char c = (unsigned char)f->cmd;
    b_put(out, &be, 4);
    b_put(out, &c, 1);
    b_put(out, f->pl.p, f->pl.len);
}

static FILE *dumpf;

/* Plays one connection. Returns 0, or -1 when the server could not be reached at all. */
static int play(int thread, unsigned long idx, int *parked, int *n_parked)
{
    uint64_t r = base_seed ^ ((uint64_t)(thread + 1) * 0x100000001b3ULL) ^ ((uint64_t)idx * 0x9e3779b97f4a7c15ULL);
    next(&r);
    script_t s = {0};
    char desc[512];
    generate(&s, &r, desc, sizeof desc);
    int lockstep = chance(&r, 50), end = (int)rnd(&r, 4), park = chance(&r, 4);
    if (log_fp) {
        pthread_mutex_lock(&log_mu);
        fprintf(log_fp, "%.3f t%d c%lu frames=%zu lockstep=%d end=%d park=%d %s\n", elapsed(), thread, idx, s.n, lockstep, end, park,
                desc);
        fflush(log_fp);
        pthread_mutex_unlock(&log_mu);
    }
    bytes_t wire = {0};
    if (dumpf) {
        for (size_t i = 0; i < s.n; i++) {
            encode(&wire, &s.f[i]);
            fwrite(wire.p, 1, wire.len, dumpf);
        }
        fflush(dumpf);
    }
    int fd = -1;
    for (int tries = 0; tries < 100 && fd < 0; tries++) { /* up to ~5 s: the backlog may be full for a moment */
        fd = dial();
        if (fd < 0) {
            st_connect_retries++;
            usleep(50000);
        }
    }
    if (fd < 0) {
        s_free(&s);
        free(wire.p);
        return -1;
    }
    st_conns++;
    conn_t c = {.fd = fd};
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    size_t i;
    for (i = 0; i < s.n && !c.eof; i++) {
        encode(&wire, &s.f[i]);
        if (send_all(&c, wire.p, wire.len) < 0)
            break;
        st_frames++;
        /* lockstep waits for the reply like an MTA; a flood of recipients is always pipelined */
        if (lockstep && expects_reply(s.f[i].cmd) && !(s.f[i].cmd == 'R' && i > 0 && s.f[i - 1].cmd == 'R'))
            wait_replies(&c, 50);
        if (elapsed() > seconds + 10) /* a runaway script (10,000 recipients) never outlives the run by much */
            break;
    }
    if (c.eof && i < s.n)
        st_closed_early++;
    if (park && !c.eof && *n_parked < MAX_PARKED) {
        parked[(*n_parked)++] = fd; /* left open and idle: many sessions at once */
    } else {
        switch (end) {
        case 0: /* hang up at once */
            break;
        case 1: /* read what comes for a moment */
            wait_replies(&c, 200);
            break;
        case 2: { /* half-close and read to EOF, bounded */
            shutdown(fd, SHUT_WR);
            double until = elapsed() + 2;
            while (!c.eof && elapsed() < until)
                wait_replies(&c, 100);
            break;
        }
        case 3: { /* quit properly */
            frame_t q = {.cmd = 'Q'};
            encode(&wire, &q);
            send_all(&c, wire.p, wire.len);
            break;
        }
        }
        close(fd);
    }
    s_free(&s);
    free(wire.p);
    return 0;
}

typedef struct {
    int id;
    long only; /* >= 0: play just this connection */
} thread_arg_t;

static void *worker(void *arg)
{
    thread_arg_t *a = arg;
    int parked[MAX_PARKED], n_parked = 0;
    for (unsigned long idx = a->only >= 0 ? (unsigned long)a->only : 0; !server_gone; idx++) {
        if (a->only < 0 && elapsed() >= seconds)
            break;
        if (play(a->id, idx, parked, &n_parked) < 0) {
            fprintf(stderr, "milterfuzz: thread %d connection %lu: cannot connect to %s for 5 s: the milter died or hangs\n", a->id,
                    idx, spec);
            server_gone = 1;
            break;
        }
        if (n_parked == MAX_PARKED) {
            for (int k = 0; k < n_parked; k++)
                close(parked[k]);
            n_parked = 0;
        }
        if (a->only >= 0)
            break;
    }
    for (int k = 0; k < n_parked; k++)
        close(parked[k]);
    return NULL;
}

static void usage(void)
{
    fputs("usage: milterfuzz -s SPEC [--seed N] [--seconds S] [--threads N] [--seeds DIR] [--log FILE]\n"
          "                  [--only THREAD:CONN [--dump FILE]]\n"
          "SPEC is unix:/path or inet:PORT@127.0.0.1. Defaults: a random seed (printed), 10 s, 4 threads,\n"
          "test/fuzz/seeds. --only replays one connection of a run with the same seed; --dump writes its bytes.\n",
          stderr);
    exit(64);
}

int main(int argc, char **argv)
{
    const char *seed_dir = "test/fuzz/seeds", *only = NULL, *dump = NULL;
    int have_seed = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "-h") || !strcmp(o, "--help"))
            usage();
        if (!v)
            usage();
        if (!strcmp(o, "-s"))
            spec = v;
        else if (!strcmp(o, "--seed"))
            base_seed = strtoull(v, NULL, 0), have_seed = 1;
        else if (!strcmp(o, "--seconds"))
            seconds = atof(v);
        else if (!strcmp(o, "--threads"))
            n_threads = atoi(v);
        else if (!strcmp(o, "--seeds"))
            seed_dir = v;
        else if (!strcmp(o, "--log")) {
            if (!(log_fp = fopen(v, "w")))
                die("cannot write %s: %s", v, strerror(errno));
        } else if (!strcmp(o, "--only"))
            only = v;
        else if (!strcmp(o, "--dump"))
            dump = v;
        else
            usage();
        i++;
    }
    if (!spec || n_threads < 1 || n_threads > 64 || seconds < 0)
        usage();
    if (!have_seed) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        base_seed = (uint64_t)t.tv_nsec ^ ((uint64_t)t.tv_sec << 20) ^ (uint64_t)getpid();
        base_seed %= 1000000000ULL;
    }
    signal(SIGPIPE, SIG_IGN);
    load_seeds(seed_dir);
    clock_gettime(CLOCK_MONOTONIC, &t_start);
    printf("milterfuzz: seed %llu (reproduce with --seed %llu), %zu seed sessions, %d threads, %.0f s against %s\n",
           (unsigned long long)base_seed, (unsigned long long)base_seed, n_seeds, only ? 1 : n_threads, seconds, spec);
    fflush(stdout);
    if (only) {
        int t;
        long c;
        if (sscanf(only, "%d:%ld", &t, &c) != 2 || c < 0)
            usage();
        if (dump && !(dumpf = fopen(dump, "wb")))
            die("cannot write %s: %s", dump, strerror(errno));
        thread_arg_t a = {.id = t, .only = c};
        worker(&a);
        if (dumpf)
            fclose(dumpf);
    } else {
        pthread_t th[64];
        thread_arg_t args[64];
        for (int i = 0; i < n_threads; i++) {
            args[i] = (thread_arg_t){.id = i, .only = -1};
            pthread_create(&th[i], NULL, worker, &args[i]);
        }
        for (int i = 0; i < n_threads; i++)
            pthread_join(th[i], NULL);
    }
    double t = elapsed();
    printf("milterfuzz: %.1f s: %llu connections, %llu frames, %.1f MB sent, %llu replies read, "
           "%llu closed early by the milter, %llu stalled, %llu connect retries (%.0f connections/s)\n",
           t, (unsigned long long)st_conns, (unsigned long long)st_frames, (double)st_bytes / 1e6, (unsigned long long)st_replies,
           (unsigned long long)st_closed_early, (unsigned long long)st_stalls, (unsigned long long)st_connect_retries,
           t > 0 ? (double)st_conns / t : 0.0);
    if (log_fp)
        fclose(log_fp);
    return server_gone ? 2 : 0;
}
