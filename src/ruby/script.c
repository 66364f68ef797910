/* script: compile handler files to bytecode once (see script.h). Called from
 * the main thread at start-up and from the reload thread; shares nothing. */
#include "ruby/script.h"

#include <errno.h>
#include <fcntl.h>
#include <mruby.h>
#include <mruby/compile.h>
#include <mruby/dump.h>
#include <mruby/irep.h>
#include <mruby/opcode.h>
#include <mruby/proc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "regexp/mrb_regexp.h"

/* The same file, unchanged: what a writer in the middle of a rewrite fails. */
static int same_version(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

#define SETTLE_NS 100000000L /* a file changed this recently is looked at again this much later */

/* For a file changed less than SETTLE_NS ago: waits until it is that old and
 * says whether it is still the version read. A writer paused between two
 * writes (descheduled, or writing in pieces) leaves a cut-short file whose
 * stat does not move while it is read; a pause this long is unlikely. */
static int settled(int fd, const struct stat *read_version)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    const struct timespec *changed = &read_version->st_ctim; /* ctime moves with every write and truncate */
    long long age = (now.tv_sec - changed->tv_sec) * 1000000000LL + (now.tv_nsec - changed->tv_nsec);
    if (age >= SETTLE_NS)
        return 1;
    long long wait = age < 0 ? SETTLE_NS : SETTLE_NS - age;
    struct timespec pause = {0, (long)wait};
    while (nanosleep(&pause, &pause) != 0 && errno == EINTR)
        ;
    struct stat later;
    return fstat(fd, &later) == 0 && same_version(read_version, &later);
}

/* Reads the whole file. Refuses an empty one and one that changed while it
 * was read or just after: a handler rewritten in place (truncate, then write)
 * is empty or cut short for a moment, and both would compile to a handler
 * that filters nothing. Renaming a new file into place never shows either. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not hang a reload */
    struct stat before, after;
    if (fd < 0 || fstat(fd, &before) != 0 || !S_ISREG(before.st_mode)) {
        snprintf(err, errlen, "%s: cannot open: %s", path, fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    size_t cap = (size_t)before.st_size + 1, n = 0;
    char *buf = pm_malloc(cap);
    ssize_t got;
    while ((got = read(fd, buf + n, cap - n)) > 0 || (got < 0 && errno == EINTR)) {
        n += got > 0 ? (size_t)got : 0;
        if (n == cap)
            buf = pm_realloc(buf, cap *= 2);
    }
    int bad = got < 0 || fstat(fd, &after) != 0;
    int unchanged = !bad && same_version(&before, &after) && n == (size_t)after.st_size && settled(fd, &after);
    close(fd);
    if (bad)
        snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
    else if (!unchanged)
        snprintf(err, errlen, "%s: changed while it was read; not loaded (write a new file and rename it into place)",
                 path);
    else if (n == 0)
        snprintf(err, errlen, "%s: is empty; not loaded (if it was being rewritten, write a new file and rename it "
                 "into place)", path);
    else {
        *len = n;
        return buf;
    }
    free(buf);
    return NULL;
}

/* Methods whose value arrives with one phase's command or macros. A handler
 * that names one needs that phase from the MTA even if the phase has no
 * handler of its own; `macro` may read anything, so it needs them all. */
static const struct {
    const char *method;
    unsigned phases;
} fact_methods[] = {
#define P(x) (1u << PM_PHASE_##x)
    {"client_ipaddr", P(CONNECT)},   {"client_hostname", P(CONNECT)},
    {"client_port", P(CONNECT)},     {"client_family", P(CONNECT)},
    {"client_daemon", P(CONNECT)},   {"myhostname", P(CONNECT)},
    {"helo_hostname", P(HELO)},      {"cert_issuer", P(HELO)},
    {"cert_subject", P(HELO)},       {"cipher_bits", P(HELO)},
    {"cipher", P(HELO)},             {"tls_version", P(HELO)},
    {"envelope_from", P(ENVFROM)},   {"envelope_from_args", P(ENVFROM)},
    {"mail_addr", P(ENVFROM)},       {"auth_type", P(ENVFROM)},
    {"auth_authen", P(ENVFROM)},     {"auth_author", P(ENVFROM)},
    {"envelope_to", P(ENVRCPT)},     {"rcpt_to", P(ENVRCPT)},
    {"rcpt_addr", P(ENVRCPT)},       {"envelope_to_all", P(ENVRCPT)},
    {"envelope_to_args", P(ENVRCPT)}, {"headers", P(HEADER)}, {"mime", P(HEADER) | P(BODY)},
    {"dkim", P(HEADER) | P(BODY)}, {"dkim_sign", P(HEADER) | P(BODY)}, {"dmarc", P(HEADER) | P(BODY) | P(HELO) | P(CONNECT) | P(ENVFROM)},
    {"authentication_results", P(HEADER) | P(BODY) | P(HELO) | P(CONNECT) | P(ENVFROM)},
    {"remove_forged_authentication_results", P(HEADER)}, {"subject", P(HEADER)},
    {"fetch_all", P(HEADER)},        {"body", P(BODY)},
    {"body_truncated?", P(BODY)},    {"message_size", P(HEADER) | P(BODY)},
    {"macro", P(CONNECT) | P(HELO) | P(ENVFROM) | P(ENVRCPT)},
    {"spf", P(CONNECT) | P(HELO) | P(ENVFROM)}, {"spf_helo", P(CONNECT) | P(HELO)}, /* client address, HELO name */
#undef P
};

/* High bits of facts_named's result, resolved in pm_scripts_compile:
 * the code names Session#body (see keeps_body); it names the Headers class;
 * it reads x[...] somewhere. */
#define NAMES_BODY (1u << 31)
#define NAMES_HEADERS (1u << 30)
#define READS_INDEX (1u << 29)
#define READS_LAST_MATCH (1u << 28) /* the code may read $~ or $1 (pm_regexp_irep_reads_last_match) */

/* Operand bytes of each instruction, from mruby's own opcode table. */
enum { LEN_Z = 0, LEN_B = 1, LEN_BB = 2, LEN_BBB = 3, LEN_BS = 3, LEN_BSS = 5, LEN_S = 2, LEN_W = 3 };
static const uint8_t operand_len[] = {
#define OPCODE(name, operands) [OP_##name] = LEN_##operands,
#include <mruby/ops.h>
#undef OPCODE
};

/* Does the code index anything with x[...] (OP_GETIDX)? Reading a header
 * as headers["Subject"] compiles to it and names no method symbol. */
static int reads_index(const mrb_irep *irep)
{
    for (uint32_t pc = 0; pc < irep->ilen;) {
        uint8_t op = irep->iseq[pc++], extra = 0;
        if (op == OP_EXT1 || op == OP_EXT2 || op == OP_EXT3) {
            extra = op == OP_EXT3 ? 2 : 1; /* the next instruction's a and/or b operands are 16-bit */
            if (pc >= irep->ilen)
                break;
            op = irep->iseq[pc++];
        }
        if (op == OP_GETIDX)
            return 1;
        if (op >= sizeof operand_len)
            return 1; /* unknown instruction: assume the worst */
        pc += operand_len[op] + extra;
    }
    return 0;
}

static unsigned facts_named(mrb_state *mrb, const mrb_irep *irep, int depth)
{
    unsigned needed = 0;
    for (uint16_t i = 0; i < irep->slen; i++) {
        const char *name = mrb_sym_name(mrb, irep->syms[i]);
        if (name && (strcmp(name, "body") == 0 || strcmp(name, "body_truncated?") == 0 ||
                     strcmp(name, "mime") == 0 || strcmp(name, "dkim") == 0 || strcmp(name, "dkim_sign") == 0 ||
                     strcmp(name, "dmarc") == 0 || strcmp(name, "authentication_results") == 0))
            needed |= NAMES_BODY;
        if (name && strcmp(name, "Headers") == 0)
            needed |= NAMES_HEADERS;
        for (size_t k = 0; name && k < sizeof fact_methods / sizeof fact_methods[0]; k++)
            if (strcmp(name, fact_methods[k].method) == 0)
                needed |= fact_methods[k].phases;
    }
    if (reads_index(irep))
        needed |= READS_INDEX;
    for (uint16_t i = 0; i < irep->rlen && depth < 64; i++)
        if (irep->reps[i])
            needed |= facts_named(mrb, irep->reps[i], depth + 1);
    return needed;
}

static pm_bytecode_t *compile_one(mrb_state *mrb, const char *path, unsigned *facts, char *err, size_t errlen)
{
    size_t len;
    char *src = read_file(path, &len, err, errlen);
    if (src == NULL)
        return NULL;
    mrbc_context *cxt = mrbc_context_new(mrb);
    mrbc_filename(mrb, cxt, path);
    cxt->capture_errors = TRUE;
    cxt->no_optimize = FALSE;
    struct mrb_parser_state *p = mrb_parse_nstring(mrb, src, len, cxt);
    pm_bytecode_t *bc = NULL;
    if (p == NULL) {
        snprintf(err, errlen, "%s: cannot parse (out of memory)", path);
    } else if (p->nerr > 0) {
        snprintf(err, errlen, "%s:%d: %s", path, p->error_buffer[0].lineno, p->error_buffer[0].message);
    } else {
        struct RProc *proc = mrb_generate_code(mrb, p);
        uint8_t *bin = NULL;
        size_t bin_len = 0;
        if (proc == NULL || mrb_dump_irep(mrb, proc->body.irep, MRB_DUMP_DEBUG_INFO, &bin, &bin_len) != MRB_DUMP_OK) {
            snprintf(err, errlen, "%s: cannot compile", path);
        } else if (pm_regexp_check_irep(mrb, proc->body.irep, err, errlen) < 0) {
            /* err: "handler/eom.rb:7: end pattern with unmatched parenthesis: /(foo/" */
        } else {
            *facts |= facts_named(mrb, proc->body.irep, 0);
            if (pm_regexp_irep_reads_last_match(mrb, proc->body.irep))
                *facts |= READS_LAST_MATCH;
            bc = pm_calloc(1, sizeof *bc);
            bc->path = pm_strdup(path);
            bc->code = pm_malloc(bin_len);
            memcpy(bc->code, bin, bin_len);
            bc->len = bin_len;
        }
        mrb_free(mrb, bin);
        mrb->exc = NULL;
    }
    if (p)
        mrb_parser_free(p);
    mrbc_context_free(mrb, cxt);
    free(src);
    return bc;
}

static pm_bytecode_t *bytecode_free(pm_bytecode_t *bc)
{
    if (bc) {
        free(bc->path);
        free(bc->code);
        free(bc);
    }
    return NULL;
}

pm_scripts_t *pm_scripts_compile(const pm_config_t *cfg, char *err, size_t errlen)
{
    mrb_state *mrb = mrb_open();
    if (mrb == NULL) {
        snprintf(err, errlen, "cannot create an mruby VM (out of memory)");
        return NULL;
    }
    pm_scripts_t *s = pm_calloc(1, sizeof *s);
    s->library = pm_calloc(cfg->n_library, sizeof *s->library);
    for (size_t i = 0; i < cfg->n_library; i++) {
        s->library[i] = compile_one(mrb, cfg->library[i], &s->facts_needed, err, errlen);
        if (s->library[i] == NULL) {
            mrb_close(mrb);
            return pm_scripts_free(s);
        }
        s->n_library++;
    }
    for (int i = 0; i < PM_PHASE_COUNT; i++) {
        if (cfg->handler[i] == NULL)
            continue;
        /* Two phases may share one file (the original example_envelope.rb). */
        s->phase[i] = compile_one(mrb, cfg->handler[i], &s->facts_needed, err, errlen);
        if (s->phase[i] == NULL) {
            s = pm_scripts_free(s);
            break;
        }
    }
    mrb_close(mrb);
    if (s) {
        unsigned f = s->facts_needed;
        s->keeps_body = (f & NAMES_BODY) != 0;
        s->reads_last_match = (f & READS_LAST_MATCH) != 0;
        /* Headers#[] (headers["Subject"] at eom) reads the received headers; it
         * names no method symbol, so: the Headers class named, and x[...] read. */
        if ((f & NAMES_HEADERS) && (f & READS_INDEX))
            f |= 1u << PM_PHASE_HEADER;
        s->facts_needed = f & ~(NAMES_BODY | NAMES_HEADERS | READS_INDEX | READS_LAST_MATCH);
    }
    return s;
}

pm_scripts_t *pm_scripts_free(pm_scripts_t *s)
{
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < s->n_library; i++)
        bytecode_free(s->library[i]);
    free(s->library);
    for (int i = 0; i < PM_PHASE_COUNT; i++)
        bytecode_free(s->phase[i]);
    free(s);
    return NULL;
}
