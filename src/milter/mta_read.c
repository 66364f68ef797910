/* mta_read: read-ahead on the MTA connections. Linked with -Wl,--wrap=read,
 * --wrap=poll and --wrap=close (libmilter is static), so libmilter's own
 * calls come here.
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
 * file and errors come back from the real read as before.
 *
 * Bytes left in a buffer when libmilter hands the session back to its
 * controller (it does so only when the 1 ms poll said "nothing there", which
 * a buffered connection never says, except after QUIT_NC) are seen by the
 * controller's poll: while any connection holds buffered bytes, a poll of
 * several descriptors first looks for them and answers at once.
 *
 * Each connection has a slot in a table indexed by descriptor, marked by the
 * accept wrapper and cleared by the close wrapper (libmilter closes its
 * sessions with close), so that a descriptor number reused for another file
 * is never taken for an MTA connection. Descriptors beyond the table are read
 * as libmilter asks.
 * Threads: a slot's buffer is used by the worker serving that session (one at
 * a time; libmilter's mutex orders hand-overs); other threads read only the
 * atomic flags. */
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

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

typedef struct {
    atomic_bool mta;      /* an open MTA connection */
    atomic_bool buffered; /* off < len: bytes libmilter has not taken yet */
    bool readable;        /* the last poll said POLLIN and nothing was read since */
    unsigned off, len;
    char *data; /* BUF_SIZE bytes, from the first read to the close */
} slot_t;

static slot_t *slots;
static int n_slots;
static atomic_int n_buffered; /* slots with buffered set */

void pm_mta_read_init(void)
{
    struct rlimit rl;
    int n = MAX_FDS;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)n)
        n = (int)rl.rlim_cur;
    slots = calloc((size_t)n, sizeof *slots); /* untouched pages cost nothing */
    n_slots = slots ? n : 0;
}

static slot_t *mta_slot(int fd)
{
    if (fd < 0 || fd >= n_slots || !atomic_load_explicit(&slots[fd].mta, memory_order_relaxed))
        return NULL;
    return &slots[fd];
}

static void set_buffered(slot_t *s, bool on)
{
    atomic_store_explicit(&s->buffered, on, memory_order_release);
    atomic_fetch_add(&n_buffered, on ? 1 : -1);
}

/* Forgets what the slot held: a new connection, or the old one closed. */
static void reset(slot_t *s)
{
    if (atomic_load(&s->buffered))
        set_buffered(s, false);
    s->off = s->len = 0;
    s->readable = false;
    free(s->data);
    s->data = NULL;
}

void pm_mta_read_opened(int fd)
{
    if (fd < 0 || fd >= n_slots)
        return;
    reset(&slots[fd]);
    atomic_store(&slots[fd].mta, true);
}

int __wrap_close(int fd)
{
    slot_t *s = mta_slot(fd);
    if (s) {
        atomic_store(&s->mta, false);
        reset(s);
    }
    return __real_close(fd);
}

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
    slot_t *s = mta_slot(fd);
    if (s == NULL || n == 0)
        return __real_read(fd, buf, n);
    s->readable = false;
    if (s->off < s->len) {
        size_t k = s->len - s->off < n ? s->len - s->off : n;
        memcpy(buf, s->data + s->off, k);
        s->off += (unsigned)k;
        if (s->off == s->len) {
            s->off = s->len = 0;
            set_buffered(s, false);
        }
        return (ssize_t)k;
    }
    if (n >= BUF_SIZE || (s->data == NULL && (s->data = malloc(BUF_SIZE)) == NULL))
        return __real_read(fd, buf, n); /* a large body chunk goes straight to libmilter's buffer */
    ssize_t got = __real_read(fd, s->data, BUF_SIZE);
    if (got <= 0)
        return got; /* end of file or an error, errno as read set it */
    size_t k = (size_t)got < n ? (size_t)got : n;
    memcpy(buf, s->data, k);
    if ((size_t)got > k) {
        s->off = (unsigned)k;
        s->len = (unsigned)got;
        set_buffered(s, true);
    }
    return (ssize_t)k;
}

/* A poll of several descriptors (libmilter's controller waiting for its idle
 * sessions) while some connection holds buffered bytes: those are ready now. */
static int buffered_ready(struct pollfd *fds, nfds_t n)
{
    int ready = 0;
    for (nfds_t i = 0; i < n; i++) {
        slot_t *s = mta_slot(fds[i].fd);
        bool has = s && (fds[i].events & POLLIN) && atomic_load_explicit(&s->buffered, memory_order_acquire);
        fds[i].revents = has ? POLLIN : 0;
        ready += has;
    }
    return ready;
}

int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
    if (n == 1) {
        slot_t *s = mta_slot(fds[0].fd);
        if (s == NULL) {
            pm_accept_polled(fds[0].fd);
            return __real_poll(fds, n, timeout);
        }
        if ((fds[0].events & POLLIN) && (s->off < s->len || s->readable)) {
            fds[0].revents = POLLIN;
            return 1;
        }
        int r = __real_poll(fds, n, timeout);
        s->readable = r == 1 && fds[0].revents == POLLIN;
        return r;
    }
    if (atomic_load_explicit(&n_buffered, memory_order_acquire) > 0) {
        int ready = buffered_ready(fds, n);
        if (ready > 0)
            return ready;
    }
    return __real_poll(fds, n, timeout);
}
