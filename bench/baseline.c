/*++
 * bench-baseline - the smallest plain-C libmilter milter playing pmilter's bench scenario
 *
 * SYNOPSIS
 *   bench-baseline unix:/path | inet:PORT@127.0.0.1
 * DESCRIPTION
 *   The yardstick for `make bench` (bench/run.sh). Registers only envfrom and eom,
 *   so libmilter negotiates every other phase away (SMFIP_NO*), as pmilter does when
 *   only those two phases have handlers (bench/pmilter-bench.conf):
 *     envfrom  rejects <spam-from@example.com>, continues otherwise;
 *     eom      adds the header X-Pmilter: Enable.
 *   The listening socket is created here and handed to libmilter as fd:N (as pmilter
 *   does, MRUBY-LIBMILTER-NOTES.md 9), so inet gets TCP_NODELAY (Linux copies it to
 *   accepted sockets) and the baseline does not pay the 40 ms Nagle stall.
 *   libmilter is linked statically, like pmilter. Stops on SIGTERM/SIGINT (libmilter's
 *   own signal thread; takes up to ~5 s).
 * DIAGNOSTICS
 *   Exit 64 on a bad argument, 1 when the socket cannot be opened or libmilter refuses.
 *--*/
#include <arpa/inet.h>
#include <errno.h>
#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static sfsistat on_envfrom(SMFICTX *ctx, char **argv)
{
    if (argv && argv[0] && strcmp(argv[0], "<spam-from@example.com>") == 0)
        return SMFIS_REJECT;
    return SMFIS_CONTINUE;
}

static sfsistat on_eom(SMFICTX *ctx)
{
    smfi_addheader(ctx, "X-Pmilter", "Enable");
    return SMFIS_CONTINUE;
}

/* Returns a listening fd for unix:/path or inet:PORT@HOST (IPv4 literal), -1 with errno. */
static int open_listener(const char *spec)
{
    int fd;
    if (strncmp(spec, "unix:", 5) == 0) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        if (strlen(spec + 5) >= sizeof sun.sun_path) {
            errno = ENAMETOOLONG;
            return -1;
        }
        strcpy(sun.sun_path, spec + 5);
        unlink(sun.sun_path); /* bench sockets live in a private temp directory */
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0)
            return -1;
    } else if (strncmp(spec, "inet:", 5) == 0) {
        struct sockaddr_in sin = {.sin_family = AF_INET};
        const char *at = strchr(spec, '@');
        sin.sin_port = htons((unsigned short)atoi(spec + 5));
        if (at == NULL || inet_pton(AF_INET, at + 1, &sin.sin_addr) != 1) {
            errno = EINVAL;
            return -1;
        }
        int on = 1;
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0 ||
            bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0)
            return -1;
    } else {
        errno = EINVAL;
        return -1;
    }
    return listen(fd, 128) == 0 ? fd : -1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench-baseline unix:/path | inet:PORT@127.0.0.1\n");
        return 64;
    }
    int fd = open_listener(argv[1]);
    if (fd < 0) {
        fprintf(stderr, "bench-baseline: cannot listen on %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    struct smfiDesc desc = {
        .xxfi_name = "bench-baseline",
        .xxfi_version = SMFI_VERSION,
        .xxfi_flags = SMFIF_ADDHDRS,
        .xxfi_envfrom = on_envfrom,
        .xxfi_eom = on_eom,
    };
    char conn[32];
    snprintf(conn, sizeof conn, "fd:%d", fd);
    if (smfi_register(desc) != MI_SUCCESS || smfi_setconn(conn) != MI_SUCCESS || smfi_setbacklog(128) != MI_SUCCESS) {
        fprintf(stderr, "bench-baseline: libmilter refused the configuration\n");
        return 1;
    }
    int rc = smfi_main();
    if (strncmp(argv[1], "unix:", 5) == 0)
        unlink(argv[1] + 5);
    return rc == MI_SUCCESS ? 0 : 1;
}
