/* listener: the socket the MTA connects to. pmilter opens it itself and hands
 * it to libmilter as "fd:N", so it controls TCP_NODELAY (libmilter never sets
 * it: ~40 ms per message on TCP without it), stale unix sockets, and removal
 * at exit. Errors are returned in err, not logged.
 * Threads: main, at start-up (and the signal thread pokes the fd at stop). */
#ifndef PM_LISTENER_H
#define PM_LISTENER_H
#include <stddef.h>

#include "core/config.h"
#include "core/privileges.h"

/* Opens, binds and listens. A leftover unix socket nobody listens on is
 * removed first; one a live process listens on is an error. A unix socket
 * is bound under an unguessable temporary name with its mode already set,
 * given its owner (never through a symlink), then renamed into place, so it
 * appears with listen_owner/listen_group/listen_mode. Returns the fd, or -1
 * with the reason in err. */
int pm_listener_open(const pm_config_t *cfg, const pm_ids_t *ids, char *err, size_t errlen);
/* Removes the unix socket file. The fd itself belongs to libmilter once
 * handed over, and libmilter closes it when smfi_main returns. */
void pm_listener_remove(const pm_config_t *cfg);
/* Connects to our own listener and hangs up at once: wakes libmilter's
 * accept loop so that a stop request is seen promptly. */
void pm_listener_poke(const pm_config_t *cfg);

#endif
