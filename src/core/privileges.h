/* privileges: who pmilter runs as, whose files it will run, and who may use
 * its socket. Started as root, it checks the config, handler and library
 * files, binds the socket, gives it the configured owner and mode, then drops
 * to `user`/`group` before any Ruby runs. Main thread at start-up, except
 * pm_privileges_check_files (also the reload thread). Errors in err. */
#ifndef PM_PRIVILEGES_H
#define PM_PRIVILEGES_H
#include <stddef.h>
#include <sys/types.h>

#include "core/config.h"

typedef struct pm_ids {
    uid_t uid, socket_uid; /* (uid_t)-1: unchanged */
    gid_t gid, socket_gid;
    int socket_mode;       /* permission bits of the unix socket; -1: umask default */
    int drop;              /* user or group configured */
} pm_ids_t;

/* Looks up user, group, listen_owner and listen_group. With user or group
 * set, the unix socket defaults to the run user and group, mode 0660 (logged
 * as a warning). -1 with "server.user: no such user \"x\"" in err. */
int pm_privileges_resolve(const pm_config_t *cfg, pm_ids_t *ids, char *err, size_t errlen);
/* As root (or after dropping root): refuse a config, handler or library file
 * that someone other than root or the run user could change. The file and
 * every directory above it (symlinks followed) must be owned by root or the
 * run user and not writable by group or others; a root-owned sticky
 * directory (/tmp) is allowed. err: "FILE: refused: directory D is writable
 * by every user (...)". */
int pm_privileges_check_files(const pm_config_t *cfg, char *err, size_t errlen);
/* Gives the socket file at path its owner and group, never through a symlink. */
int pm_privileges_socket(const pm_ids_t *ids, const char *path, char *err, size_t errlen);
/* Switches to ids' user and group for good. */
int pm_privileges_drop(const pm_config_t *cfg, const pm_ids_t *ids, char *err, size_t errlen);

#endif
