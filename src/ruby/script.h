/* script: read every handler file once and compile it to mruby bytecode in a
 * throwaway VM, so syntax errors surface at start-up (or with -t) with
 * file:line, and no callback ever reads or parses a file. The bytecode is
 * read-only afterwards and loaded into each VM of the pool (vm.c).
 * Threads: compiled by main or the reload thread; the bytecode is then
 * read by every thread that builds a VM. */
#ifndef PM_SCRIPT_H
#define PM_SCRIPT_H
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

typedef struct pm_bytecode {
    char *path;        /* handler file, as named in backtraces */
    uint8_t *code;     /* mrb_dump_irep output with debug info (file:line) */
    size_t len;
} pm_bytecode_t;

typedef struct pm_scripts {
    pm_bytecode_t **library;              /* mruby_library files, run in each VM first, in order */
    size_t n_library;
    pm_bytecode_t *phase[PM_PHASE_COUNT]; /* NULL: no handler for that phase */
    /* Bit (1 << phase) set: some handler or library names a fact that only
     * that phase's command carries (e.g. envelope_to -> envrcpt), so the
     * phase must be received even if it has no handler (milter.c). */
    unsigned facts_needed;
    int keeps_body; /* a handler names Session#body: buffer body chunks (up to max_body_size) */
    /* Some library or handler may read $~, $1.. (src/regexp/re_reads.c): the
     * generation's VMs keep the last-match state; else =~ builds none. */
    int reads_last_match;
} pm_scripts_t;

/* Compiles every library and handler named in cfg. Returns NULL and fills err with
 * "FILE:LINE: message" on the first error. An empty file, or one that changed
 * while it was read (rewritten in place), is an error too. */
pm_scripts_t *pm_scripts_compile(const pm_config_t *cfg, char *err, size_t errlen);
pm_scripts_t *pm_scripts_free(pm_scripts_t *s);

#endif
