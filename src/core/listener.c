/* listener: create the MTA-facing socket (see listener.h). Main thread at
 * start-up; pm_listener_poke also from the signal thread. */
#include "core/listener.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int unix_address(const char *path, struct sockaddr_un *sun, char *err, size_t errlen)
{
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sun->sun_path) {
        snprintf(err, errlen, "socket path %s is longer than %zu bytes", path, sizeof sun->sun_path - 1);
        return -1;
    }
    strcpy(sun->sun_path, path);
    return 0;
}

/* 1: a live process accepts on path; 0: nothing there or a dead socket. */
static int someone_listens(const struct sockaddr_un *sun)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int live = connect(fd, (const struct sockaddr *)sun, sizeof *sun) == 0;
    close(fd);
    return live;
}

/* A name nobody can guess and plant something at before we bind it. */
static int temporary_name(const char *path, char *tmp, size_t len)
{
    uint64_t r;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        return -1;
    snprintf(tmp, len, "%s.%016llx.tmp", path, (unsigned long long)r);
    return 0;
}

/* Binds fd at path with mode (-1: umask default). The mode comes from the
 * umask at bind: no chmod by name afterwards that a swapped-in symlink could
 * redirect. Only the main thread runs at this point. */
static int bind_with_mode(int fd, const struct sockaddr_un *sun, int mode)
{
    mode_t old = mode >= 0 ? umask((mode_t)~mode & 0777) : 0;
    int rc = bind(fd, (const struct sockaddr *)sun, sizeof *sun);
    if (mode >= 0)
        umask(old);
    return rc;
}

/* The file at tmp must still be a socket with the owner we gave it: if
 * someone replaced it, its directory is writable by others. */
static int still_ours(const char *tmp, const pm_ids_t *ids, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(tmp, &st) == 0 && S_ISSOCK(st.st_mode) &&
        (ids->socket_uid == (uid_t)-1 || st.st_uid == ids->socket_uid))
        return 0;
    snprintf(err, errlen, "%s was replaced while pmilter created it; is its directory writable by others?", tmp);
    return -1;
}

static int open_unix(const pm_config_t *cfg, const pm_ids_t *ids, char *err, size_t errlen)
{
    struct sockaddr_un sun;
    if (unix_address(cfg->listen_path, &sun, err, errlen))
        return -1;
    struct stat st;
    if (lstat(cfg->listen_path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errlen, "%s exists and is not a socket; not removing it", cfg->listen_path);
            return -1;
        }
        if (someone_listens(&sun)) {
            snprintf(err, errlen, "another process is already listening on %s", cfg->listen_path);
            return -1;
        }
        unlink(cfg->listen_path); /* stale: left by a pmilter that died */
    }
    /* Bind and listen under a temporary name, then rename into place: a
     * client never finds the socket file before it accepts connections. */
    char tmp[sizeof sun.sun_path + 32];
    struct sockaddr_un tmp_sun;
    if (temporary_name(cfg->listen_path, tmp, sizeof tmp) != 0) {
        snprintf(err, errlen, "cannot pick a temporary socket name: %s", strerror(errno));
        return -1;
    }
    if (unix_address(tmp, &tmp_sun, err, errlen))
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int bound = 0, failed_here = 0;
    if (fd < 0 || !(bound = bind_with_mode(fd, &tmp_sun, ids->socket_mode) == 0) ||
        listen(fd, cfg->listen_backlog) != 0 || (failed_here = pm_privileges_socket(ids, tmp, err, errlen)) != 0 ||
        (failed_here = still_ours(tmp, ids, err, errlen)) != 0 || rename(tmp, cfg->listen_path) != 0) {
        if (!failed_here)
            snprintf(err, errlen, "cannot listen on %s: %s", cfg->listen_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        if (bound)
            unlink(tmp); /* ours, or what replaced it: unlink never follows a symlink */
        return -1;
    }
    return fd;
}

static int resolve(const pm_config_t *cfg, int passive, struct addrinfo **res, char *err, size_t errlen)
{
    char port[8];
    snprintf(port, sizeof port, "%d", cfg->listen_port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = passive ? AI_PASSIVE : 0};
    hints.ai_family = cfg->listen_family == PM_LISTEN_INET6 ? AF_INET6 : AF_INET;
    const char *host = cfg->listen_host;
    if (!passive && host == NULL)
        host = cfg->listen_family == PM_LISTEN_INET6 ? "::1" : "127.0.0.1";
    int rc = getaddrinfo(host, port, &hints, res);
    if (rc != 0)
        snprintf(err, errlen, "cannot resolve listen address %s: %s", cfg->listen, gai_strerror(rc));
    return rc == 0 ? 0 : -1;
}

static int open_inet(const pm_config_t *cfg, char *err, size_t errlen)
{
    struct addrinfo *res;
    if (resolve(cfg, 1, &res, err, errlen))
        return -1;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        /* Linux copies TCP_NODELAY from the listener to each accepted socket. */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, cfg->listen_backlog) != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", cfg->listen, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

int pm_listener_open(const pm_config_t *cfg, const pm_ids_t *ids, char *err, size_t errlen)
{
    return cfg->listen_family == PM_LISTEN_UNIX ? open_unix(cfg, ids, err, errlen) : open_inet(cfg, err, errlen);
}

void pm_listener_remove(const pm_config_t *cfg)
{
    if (cfg->listen_family == PM_LISTEN_UNIX)
        unlink(cfg->listen_path);
}

void pm_listener_poke(const pm_config_t *cfg)
{
    char err[256];
    if (cfg->listen_family == PM_LISTEN_UNIX) {
        struct sockaddr_un sun;
        if (unix_address(cfg->listen_path, &sun, err, sizeof err) == 0)
            (void)someone_listens(&sun);
        return;
    }
    struct addrinfo *res;
    if (resolve(cfg, 0, &res, err, sizeof err) != 0)
        return;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        (void)connect(fd, res->ai_addr, res->ai_addrlen);
        close(fd);
    }
    freeaddrinfo(res);
}
