/*++
 * bench-idlehold - hold N negotiated, idle MTA connections open to a milter
 *
 * SYNOPSIS
 *   bench-idlehold SPEC N
 * DESCRIPTION
 *   SPEC is unix:/path or inet:PORT@HOST (IPv4 literal). Opens N connections, sends each the
 *   option negotiation (protocol version 6, every action and protocol bit offered, as
 *   Postfix does), reads the milter's reply, then sends nothing more. Prints
 *   "ready N" on stdout once all N are negotiated, then waits until stdin reaches EOF
 *   or a signal ends it. Used by bench/idle.sh; raise `ulimit -n` first.
 * DIAGNOSTICS
 *   Exit 64 on bad arguments; 1 (with the connection number and errno text) when a
 *   connection or negotiation fails.
 *--*/
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int dial(const char *spec)
{
    if (strncmp(spec, "unix:", 5) == 0) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        snprintf(sun.sun_path, sizeof sun.sun_path, "%s", spec + 5);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
            close(fd);
            return -1;
        }
        return fd;
    }
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(spec + 5))};
    const char *at = strchr(spec, '@');
    if (strncmp(spec, "inet:", 5) != 0 || !at || inet_pton(AF_INET, at + 1, &sin.sin_addr) != 1) {
        errno = EINVAL;
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int read_full(int fd, void *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r <= 0) {
            if (r == 0)
                errno = ECONNRESET;
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

/* Sends SMFIC_OPTNEG and consumes the milter's reply frame. */
static int negotiate(int fd)
{
    unsigned char pkt[17];
    uint32_t words[4] = {htonl(13), htonl(6), htonl(0x1ff), htonl(0x1fffff)};
    memcpy(pkt, &words[0], 4);
    pkt[4] = 'O';
    memcpy(pkt + 5, &words[1], 12);
    if (write(fd, pkt, sizeof pkt) != (ssize_t)sizeof pkt)
        return -1;
    uint32_t len;
    if (read_full(fd, &len, 4))
        return -1;
    len = ntohl(len);
    if (len < 1 || len > 65536) {
        errno = EPROTO;
        return -1;
    }
    char reply[65536];
    if (read_full(fd, reply, len))
        return -1;
    if (reply[0] != 'O') {
        errno = EPROTO;
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 || atoi(argv[2]) < 1) {
        fprintf(stderr, "usage: bench-idlehold SPEC N\n");
        return 64;
    }
    int n = atoi(argv[2]);
    for (int i = 0; i < n; i++) {
        int fd = dial(argv[1]);
        if (fd < 0 || negotiate(fd) != 0) {
            fprintf(stderr, "bench-idlehold: connection %d to %s: %s\n", i + 1, argv[1], strerror(errno));
            return 1;
        }
    }
    printf("ready %d\n", n);
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0)
        ;
    return 0;
}
