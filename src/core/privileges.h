/* privileges: who pmilter runs as, and who may use its socket. Started as
 * root, it binds the socket, gives it the configured owner and mode, then
 * drops to `user`/`group` before any handler runs. Errors in err. */
#ifndef PM_PRIVILEGES_H
#define PM_PRIVILEGES_H
#include <stddef.h>
#include <sys/types.h>

#include "core/config.h"

typedef struct pm_ids {
    uid_t uid, socket_uid; /* (uid_t)-1: unchanged */
    gid_t gid, socket_gid;
    int drop;              /* user or group configured */
} pm_ids_t;

/* Looks up user, group, listen_owner and listen_group. -1 with
 * "server.user: no such user \"x\"" in err. */
int pm_privileges_resolve(const pm_config_t *cfg, pm_ids_t *ids, char *err, size_t errlen);
/* Running as root: refuse a config, handler or library file that anyone may
 * write (it would let any local user run code as root). */
int pm_privileges_check_files(const pm_config_t *cfg, char *err, size_t errlen);
/* Gives the socket file its owner and mode (called on the not yet renamed file). */
int pm_privileges_socket(const pm_config_t *cfg, const pm_ids_t *ids, const char *path, char *err, size_t errlen);
/* Switches to ids' user and group for good. */
int pm_privileges_drop(const pm_config_t *cfg, const pm_ids_t *ids, char *err, size_t errlen);

#endif
