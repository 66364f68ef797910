/* milter_accept: libmilter's listener must not spin when the process is out
 * of file descriptors. Its loop retries accept() at once on EMFILE/ENFILE
 * while the connection stays queued: 100 % CPU, and the MTA waits for an
 * answer that never comes. Linked with -Wl,--wrap=accept (libmilter is
 * static). On EMFILE/ENFILE the wrapper frees a reserve descriptor, accepts
 * the waiting connection and closes it at once (the MTA applies its
 * milter_default_action instead of waiting), takes the reserve back, logs at
 * most once a minute and pauses 10 ms.
 * Other accept() calls (a handler's TCPServer, through libmruby) pass through.
 * Each time the listener polls its socket (libmilter does at least every
 * MI_CHK_TIME = 5 s; the poll wrapper in mta_read.c tells us) the time is
 * noted, the heartbeat the systemd watchdog pings on (core/notify.c). The
 * listener is the main thread (smfi_main runs it). Accepted connections are
 * handed to mta_read.c's read-ahead.
 * Threads: libmilter's listener thread for the listening socket; any thread
 * for other sockets and polls, which only pass through. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "milter/mta_read.h"
#include "milter/milter_accept.h"

int __real_accept(int fd, struct sockaddr *addr, socklen_t *len);
int __wrap_accept(int fd, struct sockaddr *addr, socklen_t *len);

static int milter_listen_fd = -1; /* set before libmilter's listener starts */
static int reserve_fd = -1;
static time_t last_logged;
static unsigned long closed_since_log;
static atomic_llong listener_seen_ms; /* CLOCK_MONOTONIC ms of the listener's last poll */

static long long monotonic_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static void open_reserve(void)
{
    if (reserve_fd < 0)
        reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* Out of descriptors: close the waiting connection with the reserve's slot. */
static void shed_connection(int listen_fd, int error)
{
    if (reserve_fd >= 0) {
        close(reserve_fd);
        reserve_fd = -1;
        int conn = __real_accept(listen_fd, NULL, NULL);
        if (conn >= 0)
            close(conn);
        open_reserve();
    }
    closed_since_log++;
    time_t now = time(NULL);
    if (now - last_logged >= 60) {
        pm_error("out of file descriptors (%s): %lu MTA connection(s) closed unanswered; lower max_sessions or raise "
                 "LimitNOFILE / ulimit -n",
                 error == EMFILE ? "the process's open-file limit" : "the system's file table", closed_since_log);
        last_logged = now;
        closed_since_log = 0;
    }
    struct timespec pause = {0, 10 * 1000 * 1000};
    nanosleep(&pause, NULL);
}

void pm_accept_guard(int listen_fd)
{
    milter_listen_fd = listen_fd;
    atomic_store(&listener_seen_ms, monotonic_ms()); /* the listener starts now */
    open_reserve();
}

double pm_accept_stalled_seconds(void)
{
    return (monotonic_ms() - atomic_load(&listener_seen_ms)) / 1000.0;
}

/* Out of line, so that other polls pass straight through: a compare and a jump. */
__attribute__((noinline, cold)) static void listener_polls(void)
{
    atomic_store_explicit(&listener_seen_ms, monotonic_ms(), memory_order_relaxed);
}

void pm_accept_polled(int fd)
{
    if (fd == milter_listen_fd && milter_listen_fd >= 0)
        listener_polls();
}

int __wrap_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    if (fd != milter_listen_fd)
        return __real_accept(fd, addr, len);
    int conn = __real_accept(fd, addr, len);
    if (conn < 0 && (errno == EMFILE || errno == ENFILE)) {
        shed_connection(fd, errno);
        errno = ECONNABORTED; /* libmilter goes back to waiting */
    }
    if (conn >= 0)
        pm_mta_read_opened(conn);
    return conn;
}
