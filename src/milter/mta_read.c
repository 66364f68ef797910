/* mta_read: fewer system calls on the MTA connections. Linked with
 * -Wl,--wrap=read, --wrap=poll, --wrap=writev and --wrap=close (libmilter is
 * static), so libmilter's own calls come here; other descriptors pass
 * through. 26 system calls per message of the seed scenario become 9.
 *
 * Per command libmilter's worker polls (1 ms) for "is a command there?", then
 * mi_rd_cmd polls and reads the 5-byte header, polls and reads the rest: five
 * system calls, ten for a macro frame and its command. Here the first read
 * of an MTA connection takes up to BUF_SIZE bytes, whatever the MTA has sent,
 * and later reads are served from that buffer; a poll of a connection with
 * buffered bytes, or one that the last poll found readable and nobody read
 * since, answers POLLIN at once. Nothing else changes: a poll of an empty
 * connection still waits in the kernel with libmilter's timeout, a read
 * still comes after a poll said there are bytes (so it never blocks), end of
 * file and errors come back from the real read as before. One difference:
 * when the MTA hangs up, commands already buffered are still served (their
 * replies then fail with EPIPE) where libmilter alone would see the hang-up
 * first.
 *
 * libmilter hands a session back to its controller only when that 1 ms poll
 * says "nothing there" (engine.c; QUIT_NC carries on in the same loop),
 * which is never said while bytes are buffered: the controller's poll of its
 * idle sessions never needs to know about the buffers.
 *
 * So the buffer belongs to the thread, not the connection: it holds bytes of
 * the session its worker is serving and is empty when the worker moves on.
 * It is tagged with the descriptor and the connection's number, which the
 * accept wrapper gives each MTA connection and the close wrapper takes back
 * (libmilter closes its sessions with close), so that neither a descriptor
 * number reused for another file nor a later connection on the same number
 * is ever answered from it. Descriptors beyond the table are read as
 * libmilter asks.
 *
 * Replies: libmilter polls for POLLOUT before each writev. Here the poll
 * answers at once and the writev does not wait (MSG_DONTWAIT); when the
 * socket buffer is full it fails with EAGAIN, libmilter polls again, and
 * that poll waits in the kernel with libmilter's timeout.
 * Threads: any; the buffer is per thread, the table of connection numbers
 * atomic. */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/log.h"
#include "milter/milter_accept.h"
#include "milter/mta_read.h"

#define BUF_SIZE 4096  /* a macro frame and its command, or a few dozen headers */
#define MAX_FDS 65536

ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __wrap_read(int fd, void *buf, size_t n);
int __real_poll(struct pollfd *fds, nfds_t n, int timeout);
int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout);
int __real_close(int fd);
int __wrap_close(int fd);
ssize_t __real_writev(int fd, const struct iovec *iov, int n);
ssize_t __wrap_writev(int fd, const struct iovec *iov, int n);

/* conn[fd]: the number of the MTA connection open on fd, 0 if none; conn is
 * published by the release store of n_fds (threads started before
 * pm_mta_read_init see no MTA descriptors). */
static atomic_uint *conn;
static atomic_int n_fds;
static atomic_uint last_conn;

static _Thread_local struct {
    int fd;
    unsigned conn;     /* conn[fd] when these bytes were read */
    bool readable;     /* the last poll said POLLIN and nothing was read since */
    unsigned off, len; /* data[off, len) is what libmilter has not taken yet */
    char data[BUF_SIZE];
} rb = {.fd = -1};

/* The connection whose last write found its socket buffer full: its next
 * write-readiness poll waits in the kernel. */
static _Thread_local struct {
    int fd;
    unsigned conn;
} full = {.fd = -1};

void pm_mta_read_init(void)
{
    struct rlimit rl;
    int n = MAX_FDS;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)n)
        n = (int)rl.rlim_cur;
    conn = calloc((size_t)n, sizeof *conn); /* untouched pages cost nothing */
    atomic_store_explicit(&n_fds, conn ? n : 0, memory_order_release);
}

/* The connection number of fd, 0 if it is not an MTA connection. */
static unsigned mta_conn(int fd)
{
    return fd >= 0 && fd < atomic_load_explicit(&n_fds, memory_order_acquire)
               ? atomic_load_explicit(&conn[fd], memory_order_relaxed)
               : 0;
}

/* The buffer is taken for another connection. It is empty then (see the
 * top); if a libmilter change ever broke that, the session whose bytes these
 * were would wait for its timeout: say so rather than stall in silence. */
static void take_buffer(void)
{
    if (rb.fd >= 0 && rb.off < rb.len && mta_conn(rb.fd) == rb.conn)
        pm_error("read-ahead: %u bytes of the MTA connection on descriptor %d were left behind; that session will "
                 "time out (a libmilter change? see src/milter/mta_read.c)",
                 rb.len - rb.off, rb.fd);
    rb.fd = -1;
}

/* This thread's buffer speaks for connection c on fd. */
static bool mine(int fd, unsigned c)
{
    return rb.fd == fd && rb.conn == c;
}

void pm_mta_read_opened(int fd)
{
    if (fd >= 0 && fd < atomic_load_explicit(&n_fds, memory_order_acquire)) {
        unsigned c = atomic_fetch_add(&last_conn, 1) + 1;
        atomic_store_explicit(&conn[fd], c ? c : 1, memory_order_relaxed);
    }
}

int __wrap_close(int fd)
{
    if (mta_conn(fd)) {
        if (rb.fd == fd)
            rb.fd = -1;
        atomic_store_explicit(&conn[fd], 0, memory_order_relaxed); /* before the number can be reused */
    }
    return __real_close(fd);
}

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
    unsigned c = mta_conn(fd);
    if (c == 0 || n == 0)
        return __real_read(fd, buf, n);
    if (mine(fd, c) && rb.off < rb.len) {
        size_t k = rb.len - rb.off < n ? rb.len - rb.off : n;
        memcpy(buf, rb.data + rb.off, k);
        rb.off += (unsigned)k;
        return (ssize_t)k;
    }
    if (!mine(fd, c))
        take_buffer();
    rb.fd = -1;
    if (n >= BUF_SIZE)
        return __real_read(fd, buf, n); /* a large body chunk goes straight to libmilter's buffer */
    ssize_t got = __real_read(fd, rb.data, BUF_SIZE);
    if (got <= 0)
        return got; /* end of file or an error, errno as read set it */
    size_t k = (size_t)got < n ? (size_t)got : n;
    memcpy(buf, rb.data, k);
    rb.fd = fd;
    rb.conn = c;
    rb.readable = false;
    rb.off = (unsigned)k;
    rb.len = (unsigned)got;
    return (ssize_t)k;
}

/* Replies go out without waiting: a socket that cannot take them says so
 * (EAGAIN), and libmilter then polls, which waits in the kernel. */
ssize_t __wrap_writev(int fd, const struct iovec *iov, int n)
{
    unsigned c = mta_conn(fd);
    if (c == 0)
        return __real_writev(fd, iov, n);
    struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n};
    ssize_t r = sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        full.fd = fd;
        full.conn = c;
    }
    return r;
}

int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
    if (n != 1)
        return __real_poll(fds, n, timeout);
    unsigned c = mta_conn(fds[0].fd);
    if (c == 0) {
        pm_accept_polled(fds[0].fd);
        return __real_poll(fds, n, timeout);
    }
    if (fds[0].events == POLLOUT) { /* before a reply: see __wrap_writev */
        if (full.fd != fds[0].fd || full.conn != c) {
            fds[0].revents = POLLOUT;
            return 1;
        }
        full.fd = -1;
        return __real_poll(fds, n, timeout);
    }
    bool own = mine(fds[0].fd, c);
    if ((fds[0].events & POLLIN) && own && (rb.off < rb.len || rb.readable)) {
        fds[0].revents = POLLIN;
        return 1;
    }
    int r = __real_poll(fds, n, timeout);
    if (r == 1 && fds[0].revents == POLLIN && (!own || rb.off == rb.len)) {
        if (!own)
            take_buffer();
        rb.fd = fds[0].fd; /* what this poll saw stays true until a read */
        rb.conn = c;
        rb.off = rb.len = 0;
        rb.readable = true;
    }
    return r;
}
