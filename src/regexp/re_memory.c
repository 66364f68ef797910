/*
 * re_memory.c - Oniguruma's memory, charged to the VM that holds it.
 *
 * Oniguruma allocates with malloc, where mruby's per-VM allocator cannot see
 * it, and libonig has no call that reports a program's size. So each program
 * and match region is charged an estimate through the embedder's charge
 * function (mrb_regexp.h), and the same amount is given back when it is
 * freed. The estimate was fitted to mallinfo2() measurements of libonig 6.9.8
 * (docs/regexp.md) and errs high: short plain patterns cost about 1 KB,
 * Unicode classes tens of KB each. Any thread; the charge function is read
 * atomically, everything else works on the caller's VM.
 */
#include <stdatomic.h>
#include <string.h>

#include <mruby.h>

#include "re_internal.h"
#include "regexp/mrb_regexp.h"

static _Atomic(pm_regexp_charge_fn *) charge_fn;

void pm_regexp_set_charge(pm_regexp_charge_fn *fn)
{
    atomic_store(&charge_fn, fn);
}

/* Constructs that make Oniguruma build Unicode code-range tables. */
static size_t count_unicode_classes(const char *src, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (src[i] == '\\' && (src[i + 1] == 'p' || src[i + 1] == 'P'))
            n++;
        else if (src[i] == '[' && src[i + 1] == ':')
            n++;
        if (src[i] == '\\')
            i++;
    }
    return n;
}

/*
 * Estimated bytes of one compiled program (measured, libonig 6.9.8: "x"*10000
 * 22 KB, /i 772 KB; \p{L} 10 KB; [[:alpha:]] with /i 31 KB).
 */
size_t re_program_cost(const char *src, size_t len, int options)
{
    int fold = options & RE_IGNORECASE;
    return 1024 + len * (fold ? 128 : 64) + count_unicode_classes(src, len) * (fold ? 32768 : 8192);
}

/* Bytes of the region a search with reg fills: begin and end per group. */
size_t re_region_cost(regex_t *reg)
{
    return sizeof(OnigRegion) + (size_t)(onig_number_of_captures(reg) + 1) * 2 * sizeof(int);
}

/*
 * Charges bytes to mrb's VM and adds them to *charged (what the owner gives
 * back when it frees). Returns 0, or -1 when over budget even after a full
 * GC (which frees unreachable Regexps and MatchData, and their charges).
 */
int re_charge(mrb_state *mrb, size_t bytes, size_t *charged)
{
    pm_regexp_charge_fn *fn = atomic_load(&charge_fn);
    if (fn == NULL)
        return 0;
    if (fn(mrb, (ptrdiff_t)bytes) != 0) {
        mrb_full_gc(mrb);
        if (fn(mrb, (ptrdiff_t)bytes) != 0)
            return -1;
    }
    *charged += bytes;
    return 0;
}

/* Gives back what re_charge added to charged (the function is set before
 * any charge, so it is still there). */
void re_uncharge(mrb_state *mrb, size_t charged)
{
    pm_regexp_charge_fn *fn = atomic_load(&charge_fn);
    if (fn != NULL && charged > 0)
        fn(mrb, -(ptrdiff_t)charged);
}
