/* phase: names of the phases; one table so config, log and Ruby agree. */
#include "core/phase.h"

#include <string.h>

static const struct {
    const char *name, *key;
} phases[PM_PHASE_COUNT] = {
    [PM_PHASE_CONNECT] = {"connect", "mruby_connect_handler"},
    [PM_PHASE_HELO] = {"helo", "mruby_helo_handler"},
    [PM_PHASE_ENVFROM] = {"envfrom", "mruby_envfrom_handler"},
    [PM_PHASE_ENVRCPT] = {"envrcpt", "mruby_envrcpt_handler"},
    [PM_PHASE_DATA] = {"data", "mruby_data_handler"},
    [PM_PHASE_HEADER] = {"header", "mruby_header_handler"},
    [PM_PHASE_EOH] = {"eoh", "mruby_eoh_handler"},
    [PM_PHASE_BODY] = {"body", "mruby_body_handler"},
    [PM_PHASE_EOM] = {"eom", "mruby_eom_handler"},
    [PM_PHASE_ABORT] = {"abort", "mruby_abort_handler"},
    [PM_PHASE_CLOSE] = {"close", "mruby_close_handler"},
    [PM_PHASE_UNKNOWN] = {"unknown", "mruby_unknown_handler"},
    [PM_PHASE_POSTCONFIG] = {"postconfig", "mruby_postconfig_handler"},
    [PM_PHASE_MASTER_EXIT] = {"master_exit", "mruby_master_exit_handler"},
};

const char *pm_phase_name(pm_phase_t phase)
{
    return phases[phase].name;
}

const char *pm_phase_key(pm_phase_t phase)
{
    return phases[phase].key;
}

int pm_phase_from_key(const char *key)
{
    for (int i = 0; i < PM_PHASE_COUNT; i++)
        if (strcmp(key, phases[i].key) == 0)
            return i;
    return -1;
}
