/* privileges: user/group lookup, socket ownership, dropping root (see privileges.h). */
#include "core/privileges.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int lookup_user(const char *name, const char *key, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
    struct passwd *pw = getpwnam(name);
    if (pw == NULL) {
        snprintf(err, errlen, "%s: no such user \"%s\"", key, name);
        return -1;
    }
    *uid = pw->pw_uid;
    if (gid)
        *gid = pw->pw_gid;
    return 0;
}

static int lookup_group(const char *name, const char *key, gid_t *gid, char *err, size_t errlen)
{
    struct group *gr = getgrnam(name);
    if (gr == NULL) {
        snprintf(err, errlen, "%s: no such group \"%s\"", key, name);
        return -1;
    }
    *gid = gr->gr_gid;
    return 0;
}

int pm_privileges_resolve(const pm_config_t *cfg, pm_ids_t *ids, char *err, size_t errlen)
{
    ids->uid = ids->socket_uid = (uid_t)-1;
    ids->gid = ids->socket_gid = (gid_t)-1;
    ids->drop = cfg->user != NULL || cfg->group != NULL;
    if (cfg->user && lookup_user(cfg->user, "server.user", &ids->uid, &ids->gid, err, errlen))
        return -1;
    if (cfg->group && lookup_group(cfg->group, "server.group", &ids->gid, err, errlen))
        return -1;
    if (cfg->listen_owner && lookup_user(cfg->listen_owner, "server.listen_owner", &ids->socket_uid, NULL, err, errlen))
        return -1;
    if (cfg->listen_group && lookup_group(cfg->listen_group, "server.listen_group", &ids->socket_gid, err, errlen))
        return -1;
    return 0;
}

static int check_file(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & S_IWOTH)) {
        snprintf(err, errlen, "%s is writable by every user; refusing to run it as root (chmod o-w %s)", path, path);
        return -1;
    }
    return 0;
}

int pm_privileges_check_files(const pm_config_t *cfg, char *err, size_t errlen)
{
    if (geteuid() != 0)
        return 0;
    if (check_file(cfg->file, err, errlen))
        return -1;
    for (int i = 0; i < PM_PHASE_COUNT; i++)
        if (cfg->handler[i] && check_file(cfg->handler[i], err, errlen))
            return -1;
    for (size_t i = 0; i < cfg->n_library; i++)
        if (check_file(cfg->library[i], err, errlen))
            return -1;
    return 0;
}

int pm_privileges_socket(const pm_config_t *cfg, const pm_ids_t *ids, const char *path, char *err, size_t errlen)
{
    /* chmod while root still owns the file, then chown: root needs no CAP_FOWNER. */
    if (cfg->listen_mode >= 0 && chmod(path, (mode_t)cfg->listen_mode) != 0) {
        snprintf(err, errlen, "cannot chmod %s to %04o: %s", cfg->listen_path, cfg->listen_mode, strerror(errno));
        return -1;
    }
    if ((ids->socket_uid != (uid_t)-1 || ids->socket_gid != (gid_t)-1) &&
        chown(path, ids->socket_uid, ids->socket_gid) != 0) {
        snprintf(err, errlen, "cannot give %s to %s:%s: %s", cfg->listen_path,
                 cfg->listen_owner ? cfg->listen_owner : "-", cfg->listen_group ? cfg->listen_group : "-",
                 strerror(errno));
        return -1;
    }
    return 0;
}

int pm_privileges_drop(const pm_config_t *cfg, const pm_ids_t *ids, char *err, size_t errlen)
{
    if (!ids->drop)
        return 0;
    gid_t gid = ids->gid != (gid_t)-1 ? ids->gid : getegid();
    uid_t uid = ids->uid != (uid_t)-1 ? ids->uid : geteuid();
    /* Supplementary groups first (they need root), then the group, then the user. */
    int rc = cfg->user ? initgroups(cfg->user, gid) : setgroups(1, &gid);
    if (rc != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
        snprintf(err, errlen, "cannot switch to user %s group %s: %s", cfg->user ? cfg->user : "-",
                 cfg->group ? cfg->group : "-", strerror(errno));
        return -1;
    }
    if (uid != 0 && setuid(0) == 0) { /* must be impossible now */
        snprintf(err, errlen, "dropping privileges failed: root could be regained");
        return -1;
    }
    return 0;
}
