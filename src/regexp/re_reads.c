/*
 * re_reads.c - pm_regexp_irep_reads_last_match(): does compiled code read
 * the last-match state ($~, $1..$9, $&, $`, $', $+, Regexp.last_match)?
 *
 * mruby reads those globals with OP_GETGV like any other (no hook), so they
 * cannot be computed lazily; instead the code a VM will run is scanned once
 * when it is compiled, and a VM whose code never reads them lets =~ and ===
 * match without building a MatchData or setting the globals (re_regexp.c).
 * The scan errs towards "reads": naming a last-match global or a method that
 * reaches the state by a name not written in the code (eval, send with a
 * computed name, to_sym, reflection; the full list is below and in
 * docs/regexp.md), an instruction it does not know, or bytecode it cannot
 * decode. Reads the irep only; any thread.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mruby.h>
#include <mruby/irep.h>
#include <mruby/opcode.h>

#include "re_internal.h"
#include "regexp/mrb_regexp.h"

static const unsigned char op_format[] = {
#define OPCODE(name, fmt) RE_F_##fmt,
#include <mruby/ops.h>
#undef OPCODE
};

int re_op_format(int op)
{
    return (size_t)op < sizeof op_format ? op_format[op] : -1;
}

/*
 * Decode the instruction at *pc into its opcode and operands a, b, c, and
 * move *pc past it. The widths follow mruby 3.1's FETCH_*_1/2/3 macros
 * (opcode.h): OP_EXT1 widens a to 16 bits, OP_EXT2 b, OP_EXT3 both, but only
 * for the B-sized operands of B, BB, BBB and BS formats (B alone: EXT1 only);
 * S operands are always 16 bits, W 24. An unknown opcode or an instruction
 * running past the end sets *pc to UINT32_MAX.
 */
int re_decode(const struct mrb_irep *irep, uint32_t *pc, uint32_t *a, uint32_t *b, uint32_t *c)
{
    const mrb_code *p = irep->iseq + *pc, *end = irep->iseq + irep->ilen;
    int ext = 0, op = *p++;
    if (op == OP_EXT1 || op == OP_EXT2 || op == OP_EXT3) {
        ext = op - OP_EXT1 + 1;
        if (p >= end) {
            *pc = UINT32_MAX;
            return op;
        }
        op = *p++;
    }
    int fmt = re_op_format(op);
    if (fmt < 0) { /* not from mruby 3.1's codegen */
        *pc = UINT32_MAX;
        return op;
    }
    int wa = (ext & 1) ? 2 : 1, wb = (ext & 2) ? 2 : 1;
    size_t need = fmt == RE_F_B ? (size_t)(ext == 1 ? 2 : 1)
                  : fmt == RE_F_BB ? (size_t)(wa + wb)
                  : fmt == RE_F_BBB ? (size_t)(wa + wb + 1)
                  : fmt == RE_F_BS ? (size_t)(wa + 2)
                  : fmt == RE_F_BSS ? (size_t)(wa + 4)
                  : fmt == RE_F_S ? 2u
                  : fmt == RE_F_W ? 3u : 0u;
    if ((size_t)(end - p) < need) {
        *pc = UINT32_MAX;
        return op;
    }
#define RD(n) ((n) == 2 ? (p += 2, (uint32_t)(p[-2] << 8 | p[-1])) : (uint32_t)(*p++))
    *a = *b = *c = 0;
    switch (fmt) {
    case RE_F_Z: break;
    case RE_F_B: *a = RD(ext == 1 ? 2 : 1); break;
    case RE_F_BB: *a = RD(wa); *b = RD(wb); break;
    case RE_F_BBB: *a = RD(wa); *b = RD(wb); *c = RD(1); break;
    case RE_F_BS: *a = RD(wa); *b = RD(2); break;
    case RE_F_BSS: *a = RD(wa); *b = RD(2); *c = RD(2); break;
    case RE_F_S: *a = RD(2); break;
    case RE_F_W: p += 3; break;
    }
#undef RD
    *pc = (uint32_t)(p - irep->iseq);
    return op;
}

/* Globals holding last-match state: $~ $& $` $' $+ and $<digits>. */
static mrb_bool last_match_global(const char *n, mrb_int len)
{
    if (len < 2 || n[0] != '$')
        return FALSE;
    if (len == 2 && strchr("~&`'+", n[1]))
        return TRUE;
    for (mrb_int i = 1; i < len; i++)
        if (n[i] < '0' || n[i] > '9')
            return FALSE;
    return TRUE;
}

static mrb_bool in_list(const char *const *list, const char *n, mrb_int len)
{
    for (; *list; list++)
        if (strlen(*list) == (size_t)len && memcmp(*list, n, (size_t)len) == 0)
            return TRUE;
    return FALSE;
}

/* Naming one of these anywhere means "reads": they read the state, run code
 * the scan never sees, or make a Symbol from data that send could call. */
static const char *const reading_names[] = {
    "last_match", "eval", "instance_eval", "class_eval", "module_eval", "global_variables", "binding",
    "to_sym", "intern", "all_symbols", "methods", "public_methods", "private_methods", "protected_methods",
    "singleton_methods", "instance_methods", "public_instance_methods", "private_instance_methods",
    "protected_instance_methods", NULL};

/* These call a method by name: fine with a literal Symbol as the name (the
 * name is then in the code, and scanned), "reads" in any other use. */
static const char *const dispatch_names[] = {
    "send", "__send__", "public_send", "method", "public_method", "singleton_method", "instance_method",
    "public_instance_method", "to_proc", NULL};

/* mruby 3.1 passes the arguments as one array (a splat) at this count. */
#define SPLAT_ARGC 127

static mrb_bool is_send(int op)
{
    return op == OP_SEND || op == OP_SENDB || op == OP_SSEND || op == OP_SSENDB;
}

/* Instructions that write R[a] and no other register: the scan's knowledge
 * of the other registers survives them. Any other instruction (a jump, a
 * send, ENTER, APOST...) makes it forget every register. */
static mrb_bool writes_only_a(int op)
{
    switch (op) {
    case OP_MOVE: case OP_LOADL: case OP_LOADI: case OP_LOADINEG: case OP_LOADI__1: case OP_LOADI_0:
    case OP_LOADI_1: case OP_LOADI_2: case OP_LOADI_3: case OP_LOADI_4: case OP_LOADI_5: case OP_LOADI_6:
    case OP_LOADI_7: case OP_LOADI16: case OP_LOADI32: case OP_LOADSYM: case OP_LOADNIL: case OP_LOADSELF:
    case OP_LOADT: case OP_LOADF: case OP_GETGV: case OP_GETSV: case OP_GETIV: case OP_GETCV:
    case OP_GETCONST: case OP_GETMCNST: case OP_GETUPVAR: case OP_STRING: case OP_ARRAY: case OP_ARRAY2:
    case OP_HASH: case OP_LAMBDA: case OP_BLOCK: case OP_METHOD: case OP_OCLASS:
        return TRUE;
    default:
        return FALSE;
    }
}

/* Is the sym operand(s) of op a dispatch name used other than as allowed? */
static mrb_bool sym_operand_bad(const mrb_irep *irep, const unsigned char *dispatch, int op, uint32_t a, uint32_t b)
{
    switch (op) {
    case OP_LOADSYM: case OP_GETGV: case OP_SETGV: case OP_GETSV: case OP_SETSV: case OP_GETIV: case OP_SETIV:
    case OP_GETCV: case OP_SETCV: case OP_GETCONST: case OP_SETCONST: case OP_GETMCNST: case OP_SETMCNST:
    case OP_KEY_P: case OP_KARG: case OP_CLASS: case OP_MODULE: case OP_DEF:
        return b < irep->slen && dispatch[b];
    case OP_ALIAS:
        return (a < irep->slen && dispatch[a]) || (b < irep->slen && dispatch[b]);
    case OP_UNDEF:
        return a < irep->slen && dispatch[a];
    default:
        return FALSE;
    }
}

/* A send of a dispatch name: is its name argument (or receiver, for to_proc) a literal Symbol? */
static mrb_bool literal_dispatch(mrb_state *mrb, const mrb_irep *irep, const unsigned char *lit, uint32_t a, uint32_t b,
                                 uint32_t c)
{
    mrb_int len;
    const char *name = mrb_sym_name_len(mrb, irep->syms[b], &len);
    if (name && len == 7 && memcmp(name, "to_proc", 7) == 0)
        return lit[a];
    return c >= 1 && c < SPLAT_ARGC && a + 1 < irep->nregs && lit[a + 1];
}

static mrb_bool reads_one(mrb_state *mrb, const mrb_irep *irep, int depth)
{
    if (depth > 256)
        return TRUE;
    mrb_bool any_dispatch = FALSE;
    unsigned char *dispatch = calloc((size_t)irep->slen + 1, 1);
    if (!dispatch)
        return TRUE;
    for (uint16_t i = 0; i < irep->slen; i++) {
        mrb_int len;
        const char *n = mrb_sym_name_len(mrb, irep->syms[i], &len);
        if (!n || last_match_global(n, len) || in_list(reading_names, n, len)) {
            free(dispatch);
            return TRUE;
        }
        dispatch[i] = in_list(dispatch_names, n, len);
        any_dispatch |= dispatch[i];
    }
    unsigned char *lit = calloc((size_t)irep->nregs + 1, 1); /* R[i] holds a literal Symbol */
    mrb_bool reads = lit == NULL;
    for (uint32_t pc = 0, a, b, c; !reads && pc < irep->ilen;) {
        int op = re_decode(irep, &pc, &a, &b, &c);
        if (pc == UINT32_MAX) {
            reads = TRUE;
            break;
        }
        if (op == OP_INTERN) { /* :"#{x}": a Symbol made from data */
            reads = TRUE;
        } else if (op == OP_SYMBOL) { /* :"text": a Symbol from a pool string, which no sym table names */
            const mrb_pool_value *pv = b < irep->plen ? &irep->pool[b] : NULL;
            mrb_int len = pv && !(pv->tt & IREP_TT_NFLAG) ? (mrb_int)(pv->tt >> 2) : -1;
            reads = len < 0 || last_match_global(pv->u.str, len) || in_list(reading_names, pv->u.str, len) ||
                    in_list(dispatch_names, pv->u.str, len);
        } else if (any_dispatch && is_send(op) && b < irep->slen && dispatch[b]) {
            reads = !literal_dispatch(mrb, irep, lit, a, b, c);
        } else if (any_dispatch && sym_operand_bad(irep, dispatch, op, a, b)) {
            reads = TRUE;
        }
        if (writes_only_a(op) && a < irep->nregs)
            lit[a] = op == OP_LOADSYM;
        else
            memset(lit, 0, (size_t)irep->nregs + 1);
    }
    free(lit);
    free(dispatch);
    for (uint16_t i = 0; i < irep->rlen && !reads; i++)
        if (irep->reps[i])
            reads = reads_one(mrb, irep->reps[i], depth + 1);
    return reads;
}

int pm_regexp_irep_reads_last_match(mrb_state *mrb, const struct mrb_irep *irep)
{
    return irep ? reads_one(mrb, irep, 0) : 0;
}
