/* privileges: user/group lookup, the trust check of the files pmilter runs,
 * the socket's ownership, dropping root (see privileges.h). Called from the
 * main thread at start-up; pm_privileges_check_files also from the reload
 * thread (it only reads run_uid, written once before that thread starts). */
#include "core/privileges.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

/* The uid privileges were dropped to; -1 while still running as started. */
static uid_t run_uid = (uid_t)-1;

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

/* A socket left root 0755 (umask) would refuse the MTA, and pmilter's own
 * stop poke once it has dropped root: give it to the run user and group. */
static void default_socket_access(const pm_config_t *cfg, pm_ids_t *ids)
{
    if (!ids->drop || cfg->listen_family != PM_LISTEN_UNIX)
        return;
    int defaulted = 0;
    if (!cfg->listen_owner && !cfg->listen_group && ids->socket_uid == (uid_t)-1) {
        ids->socket_uid = ids->uid;
        ids->socket_gid = ids->gid;
        defaulted = 1;
    }
    if (cfg->listen_mode < 0) {
        ids->socket_mode = 0660;
        defaulted = 1;
    }
    if (defaulted) {
        struct passwd *pw = ids->socket_uid != (uid_t)-1 ? getpwuid(ids->socket_uid) : NULL;
        struct group *gr = ids->socket_gid != (gid_t)-1 ? getgrgid(ids->socket_gid) : NULL;
        pm_warn("%s: the socket gets owner %s, group %s, mode %04o by default, as server.user/group is set without "
                "listen_owner/listen_group/listen_mode; the MTA must be able to write it (docs/postfix.md)",
                cfg->listen_path, pw ? pw->pw_name : "root", gr ? gr->gr_name : "root", (unsigned)ids->socket_mode);
    }
}

int pm_privileges_resolve(const pm_config_t *cfg, pm_ids_t *ids, char *err, size_t errlen)
{
    ids->uid = ids->socket_uid = (uid_t)-1;
    ids->gid = ids->socket_gid = (gid_t)-1;
    ids->socket_mode = cfg->listen_mode;
    ids->drop = cfg->user != NULL || cfg->group != NULL;
    if (cfg->user && lookup_user(cfg->user, "server.user", &ids->uid, &ids->gid, err, errlen))
        return -1;
    if (cfg->group && lookup_group(cfg->group, "server.group", &ids->gid, err, errlen))
        return -1;
    if (cfg->listen_owner && lookup_user(cfg->listen_owner, "server.listen_owner", &ids->socket_uid, NULL, err, errlen))
        return -1;
    if (cfg->listen_group && lookup_group(cfg->listen_group, "server.listen_group", &ids->socket_gid, err, errlen))
        return -1;
    default_socket_access(cfg, ids);
    return 0;
}

/* Whose files pmilter may run: root's, and those of the user it runs as. */
typedef struct trust {
    uid_t user;       /* (uid_t)-1: root only */
    const char *name; /* for messages */
} trust_t;

static int trusted(const trust_t *t, uid_t owner)
{
    return owner == 0 || (t->user != (uid_t)-1 && owner == t->user);
}

static const char *writers(mode_t mode)
{
    return mode & S_IWOTH ? "every user" : "its group";
}

/* Why the entry at prefix lets someone untrusted change what path names, or
 * NULL. A directory writable by others is refused unless it is root's and
 * sticky (/tmp): there only an entry's owner may rename or remove it, and
 * every entry below must be trusted anyway. */
static int check_entry(const trust_t *t, const char *prefix, const struct stat *st, int last, char *why,
                       size_t whylen)
{
    const char *kind = S_ISDIR(st->st_mode) ? "directory" : S_ISLNK(st->st_mode) ? "symlink" : "file";
    if (!trusted(t, st->st_uid)) {
        snprintf(why, whylen, "%s %s is owned by uid %u, not by root or %s", kind, prefix, (unsigned)st->st_uid,
                 t->name);
        return -1;
    }
    if (S_ISLNK(st->st_mode))
        return 0; /* its own mode means nothing; its target is checked */
    if (last && !S_ISREG(st->st_mode)) {
        snprintf(why, whylen, "%s is not a regular file", prefix);
        return -1;
    }
    int shared = (st->st_mode & (S_IWGRP | S_IWOTH)) != 0;
    if (shared && !(S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX) && st->st_uid == 0)) {
        snprintf(why, whylen, "%s %s is writable by %s", kind, prefix, writers(st->st_mode));
        return -1;
    }
    return 0;
}

static int check_chain(const trust_t *t, const char *path, int is_file, int depth, char *why, size_t whylen);

/* Checks where the symlink at link points, one link at a time, so a link
 * inside the target's path is checked too. is_file: the link names the file
 * itself, not a directory on the way to it. */
static int check_link(const trust_t *t, const char *link, int is_file, int depth, char *why, size_t whylen)
{
    char target[PATH_MAX], next[2 * PATH_MAX];
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0 || depth >= 40) {
        snprintf(why, whylen, "cannot follow symlink %s", link);
        return -1;
    }
    target[n] = '\0';
    if (target[0] == '/')
        snprintf(next, sizeof next, "%s", target);
    else /* relative to the link's directory */
        snprintf(next, sizeof next, "%.*s/%s", (int)(strrchr(link, '/') - link), link, target);
    return check_chain(t, next, is_file, depth + 1, why, whylen);
}

/* Walks path from / down, entry by entry, as the kernel resolves it; a
 * symlink's target is walked the same way. is_file: path must end in a
 * regular file (else it is a directory on the way to one). */
static int check_chain(const trust_t *t, const char *path, int is_file, int depth, char *why, size_t whylen)
{
    char abs[PATH_MAX];
    if (path[0] == '/')
        snprintf(abs, sizeof abs, "%s", path);
    else if (getcwd(abs, sizeof abs) == NULL || strlen(abs) + 1 + strlen(path) >= sizeof abs) {
        snprintf(why, whylen, "cannot make %s absolute", path);
        return -1;
    } else
        snprintf(abs + strlen(abs), sizeof abs - strlen(abs), "/%s", path);
    size_t n = strlen(abs);
    for (size_t i = 0; i <= n; i++) {
        if (i > 0 && i < n && abs[i] != '/')
            continue;
        if (i > 0 && abs[i - 1] == '/')
            continue; /* "//" or a trailing "/": the same entry again */
        char prefix[PATH_MAX];
        snprintf(prefix, sizeof prefix, "%.*s", i == 0 ? 1 : (int)i, abs);
        struct stat st;
        if (lstat(prefix, &st) != 0) {
            snprintf(why, whylen, "cannot check %s: %s", prefix, strerror(errno));
            return -1;
        }
        if (check_entry(t, prefix, &st, is_file && i == n, why, whylen))
            return -1;
        if (S_ISLNK(st.st_mode) && check_link(t, prefix, is_file && i == n, depth, why, whylen))
            return -1;
    }
    return 0;
}

static int check_file(const trust_t *t, const char *path, char *err, size_t errlen)
{
    char why[PATH_MAX + 128];
    if (check_chain(t, path, 1, 0, why, sizeof why) == 0)
        return 0;
    snprintf(err, errlen, "%s: refused: %s (anyone who can change it runs code as %s)", path, why, t->name);
    return -1;
}

int pm_privileges_check_files(const pm_config_t *cfg, char *err, size_t errlen)
{
    trust_t t = {(uid_t)-1, "root"};
    if (geteuid() == 0) {
        gid_t unused;
        if (cfg->user && lookup_user(cfg->user, "server.user", &t.user, &unused, err, errlen))
            return -1;
        t.name = cfg->user ? cfg->user : "root";
    } else if (run_uid != (uid_t)-1) {
        /* A reload after dropping root: still refuse other users' files. */
        t.user = run_uid;
        t.name = cfg->user ? cfg->user : "pmilter's user";
    } else {
        return 0; /* started unprivileged: the files are the user's own business */
    }
    if (check_file(&t, cfg->file, err, errlen))
        return -1;
    for (int i = 0; i < PM_PHASE_COUNT; i++)
        if (cfg->handler[i] && check_file(&t, cfg->handler[i], err, errlen))
            return -1;
    for (size_t i = 0; i < cfg->n_library; i++)
        if (check_file(&t, cfg->library[i], err, errlen))
            return -1;
    return 0;
}

int pm_privileges_socket(const pm_ids_t *ids, const char *path, char *err, size_t errlen)
{
    if (ids->socket_uid == (uid_t)-1 && ids->socket_gid == (gid_t)-1)
        return 0;
    /* By name, but never through a symlink someone swapped in for the socket. */
    if (fchownat(AT_FDCWD, path, ids->socket_uid, ids->socket_gid, AT_SYMLINK_NOFOLLOW) != 0) {
        snprintf(err, errlen, "cannot give %s to uid %d gid %d: %s", path, (int)ids->socket_uid, (int)ids->socket_gid,
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
    run_uid = uid;
    return 0;
}
