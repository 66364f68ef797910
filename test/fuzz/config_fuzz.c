/* config_fuzz: libFuzzer target for the config loader (src/config.c + the TOML
 * wrapper). Any input must give either a config or an error message: never a
 * crash, a sanitizer report, a leak or an exit. Relative paths resolve against
 * /nonexistent, so handler files are never found and never run.
 * Build: make build/fuzz/config_fuzz; run: build/fuzz/config_fuzz test/fuzz/corpus/config */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    err[0] = '\0';
    pm_config_t *cfg = pm_config_load_string((const char *)data, size, "fuzz.conf", "/nonexistent", err, sizeof err);
    if (cfg) {
        pm_config_free(cfg);
    } else if (err[0] == '\0' || memchr(err, '\0', sizeof err) == NULL) {
        /* an error must be reported as one terminated line */
        fprintf(stderr, "config_fuzz: loader failed without a message\n");
        __builtin_trap();
    }
    return 0;
}
