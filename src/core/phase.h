/* phase: the milter phases pmilter can run a handler in, with their names as
 * the config file, the log and Pmilter::Session#handler_phase_name spell them.
 * Threads: any (constant tables). */
#ifndef PM_PHASE_H
#define PM_PHASE_H

typedef enum {
    PM_PHASE_CONNECT,
    PM_PHASE_HELO,
    PM_PHASE_ENVFROM,
    PM_PHASE_ENVRCPT,
    PM_PHASE_DATA,
    PM_PHASE_HEADER,
    PM_PHASE_EOH,
    PM_PHASE_BODY,
    PM_PHASE_EOM,
    PM_PHASE_ABORT,
    PM_PHASE_CLOSE,
    PM_PHASE_UNKNOWN,
    PM_PHASE_SESSION_COUNT, /* phases above run per SMTP session; below, once per process */
    PM_PHASE_POSTCONFIG = PM_PHASE_SESSION_COUNT,
    PM_PHASE_MASTER_EXIT,
    PM_PHASE_COUNT
} pm_phase_t;

/* "connect", "helo", ..., "postconfig", "master_exit" */
const char *pm_phase_name(pm_phase_t phase);
/* "mruby_connect_handler", ...: the config key and handler_phase_name */
const char *pm_phase_key(pm_phase_t phase);
/* Phase whose config key is key, or -1. */
int pm_phase_from_key(const char *key);

#endif
