/* Unit tests for listener.c: the unix socket appears with its configured
 * owner and mode, and a symlink swapped in for it while it is being created
 * never lends that owner and mode to the symlink's target. Run as root (the
 * suites are); without root only the mode is checked. */
#include <limits.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/listener.h"
#include "unit.h"

static const char *swap_target; /* non-NULL: replace the socket with a symlink to it */

/* Stands in for libc's listen(2), which listener.c calls right after bind:
 * the moment an attacker with access to the directory would strike. */
int listen(int fd, int backlog)
{
    struct sockaddr_un sun;
    socklen_t len = sizeof sun;
    if (swap_target && getsockname(fd, (struct sockaddr *)&sun, &len) == 0 && sun.sun_path[0]) {
        char evil[sizeof sun.sun_path + 8];
        snprintf(evil, sizeof evil, "%s.evil", sun.sun_path);
        if (symlink(swap_target, evil) != 0 || rename(evil, sun.sun_path) != 0)
            perror("planting the symlink");
    }
    return (int)syscall(SYS_listen, fd, backlog);
}

static pm_config_t unix_config(char *path)
{
    pm_config_t cfg = {0};
    cfg.listen = cfg.listen_path = path;
    cfg.listen_family = PM_LISTEN_UNIX;
    cfg.listen_backlog = 16;
    cfg.listen_mode = 0660;
    return cfg;
}

static pm_ids_t socket_ids(void)
{
    pm_ids_t ids = {.uid = (uid_t)-1, .gid = (gid_t)-1, .socket_mode = 0660};
    ids.socket_uid = geteuid() == 0 ? 65534 : (uid_t)-1; /* nobody */
    ids.socket_gid = geteuid() == 0 ? 65534 : (gid_t)-1;
    return ids;
}

int main(void)
{
    char dir[] = "/tmp/pmilter-unit-listener.XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 1;
    char sock[PATH_MAX], target[PATH_MAX], err[512];
    snprintf(sock, sizeof sock, "%s/pm.sock", dir);
    snprintf(target, sizeof target, "%s/target", dir);
    pm_config_t cfg = unix_config(sock);
    pm_ids_t ids = socket_ids();

    int fd = pm_listener_open(&cfg, &ids, err, sizeof err);
    struct stat st;
    CHECK("listener: socket created", fd >= 0 && lstat(sock, &st) == 0 && S_ISSOCK(st.st_mode));
    CHECK("listener: socket has listen_mode 0660", fd >= 0 && (st.st_mode & 07777) == 0660);
    CHECK("listener: socket has listen_owner/listen_group",
          fd >= 0 && st.st_uid == (geteuid() == 0 ? 65534 : geteuid()) &&
              (geteuid() != 0 || st.st_gid == 65534));
    if (fd >= 0)
        close(fd);
    unlink(sock);

    FILE *f = fopen(target, "w");
    if (f)
        fclose(f);
    chmod(target, 0600);
    swap_target = target;
    fd = pm_listener_open(&cfg, &ids, err, sizeof err);
    swap_target = NULL;
    CHECK("listener: a socket replaced during creation is refused", fd < 0 && strstr(err, "was replaced"));
    CHECK("listener: the symlink's target keeps mode 0600", stat(target, &st) == 0 && (st.st_mode & 07777) == 0600);
    CHECK("listener: the symlink's target keeps its owner", stat(target, &st) == 0 && st.st_uid == geteuid());
    if (fd >= 0)
        close(fd);

    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 && unit_failures == 0 ? 0 : 1;
}
