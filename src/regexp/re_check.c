/*
 * re_check.c - pm_regexp_check_irep(): find the regexp literals of a
 * compiled script and compile each one, so that a bad literal is reported
 * at load time with its file and line instead of when its line first runs.
 *
 * mruby 3.1 compiles /src/flags into (measured with `mrbc -v`):
 *   OCLASS R; GETMCNST R R::Regexp; STRING R+1 pool(src);
 *   [STRING R+2 pool(flags) | LOADNIL R+2]; [STRING R+3 pool(enc)];
 *   SEND R :compile n
 * A literal with #{} builds its source with STRCAT and is skipped: it is
 * only known at run time. Reads the irep only; any thread.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mruby.h>
#include <mruby/irep.h>
#include <mruby/debug.h>
#include <mruby/opcode.h>

#include "re_internal.h"
#include "regexp/mrb_regexp.h"

/* What the scan knows about one register. */
enum { R_UNKNOWN, R_REGEXP_CLASS, R_POOL_STRING, R_NIL };
typedef struct {
    unsigned char kind;
    uint32_t pool; /* index into irep->pool for R_POOL_STRING */
} reg_state;

static mrb_bool sym_is(mrb_state *mrb, mrb_sym sym, const char *name)
{
    mrb_int len;
    const char *s = mrb_sym_name_len(mrb, sym, &len);
    return s && (size_t)len == strlen(name) && memcmp(s, name, (size_t)len) == 0;
}

/* Compile the literal whose SEND is at pc; on error fill err and return -1. */
static int check_literal(mrb_state *mrb, const mrb_irep *irep, const reg_state *rs, uint32_t a, uint32_t argc, uint32_t pc,
                         char *err, size_t errlen)
{
    const mrb_pool_value *src = &irep->pool[rs[a + 1].pool];
    int options = 0;
    if (argc >= 2 && rs[a + 2].kind == R_POOL_STRING) {
        const mrb_pool_value *f = &irep->pool[rs[a + 2].pool];
        for (uint32_t i = 0; i < (f->tt >> 2); i++) {
            char o = f->u.str[i];
            options |= o == 'i' ? RE_IGNORECASE : o == 'x' ? RE_EXTENDED : o == 'm' ? RE_MULTILINE : 0;
        }
    }
    regex_t *reg;
    char msg[600];
    if (re_compile(src->u.str, src->tt >> 2, options, ONIG_ENCODING_UTF8, &reg, msg, sizeof msg) == 0) {
        onig_free(reg);
        return 0;
    }
    const char *file = mrb_debug_get_filename(mrb, irep, pc);
    int32_t line = mrb_debug_get_line(mrb, irep, pc);
    snprintf(err, errlen, "%s:%ld: %s", file ? file : "(unknown)", (long)(line < 0 ? 0 : line), msg);
    return -1;
}

static int check_one(mrb_state *mrb, const mrb_irep *irep, char *err, size_t errlen)
{
    reg_state *rs = calloc((size_t)irep->nregs + 4, sizeof *rs);
    if (!rs) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int result = 0;
    uint32_t pc = 0, a, b, c;
    while (pc < irep->ilen && result == 0) {
        uint32_t at = pc;
        int op = re_decode(irep, &pc, &a, &b, &c);
        if (pc == UINT32_MAX)
            break;
        if (re_op_format(op) == RE_F_Z || re_op_format(op) == RE_F_S || re_op_format(op) == RE_F_W || a >= irep->nregs)
            continue;
        switch (op) {
        case OP_GETMCNST:
        case OP_GETCONST:
            rs[a].kind = b < irep->slen && sym_is(mrb, irep->syms[b], "Regexp") ? R_REGEXP_CLASS : R_UNKNOWN;
            break;
        case OP_STRING:
            rs[a].kind = b < irep->plen && !(irep->pool[b].tt & IREP_TT_NFLAG) ? R_POOL_STRING : R_UNKNOWN;
            rs[a].pool = b;
            break;
        case OP_LOADNIL:
            rs[a].kind = R_NIL;
            break;
        case OP_SEND:
            if (rs[a].kind == R_REGEXP_CLASS && c >= 1 && c <= 3 && a + c < irep->nregs && b < irep->slen &&
                sym_is(mrb, irep->syms[b], "compile") && rs[a + 1].kind == R_POOL_STRING)
                result = check_literal(mrb, irep, rs, a, c, at, err, errlen);
            rs[a].kind = R_UNKNOWN;
            break;
        default:
            rs[a].kind = R_UNKNOWN; /* most instructions write R[a]; forgetting is always safe */
            break;
        }
    }
    free(rs);
    for (uint16_t i = 0; i < irep->rlen && result == 0; i++)
        if (irep->reps[i])
            result = check_one(mrb, irep->reps[i], err, errlen);
    return result;
}

int pm_regexp_check_irep(mrb_state *mrb, const struct mrb_irep *irep, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    return irep ? check_one(mrb, irep, err, errlen) : 0;
}
