/*
 * mrb_regexp.h - Ruby's Regexp, MatchData and the regexp-taking String
 * methods for mruby, on Oniguruma. See docs/regexp.md for the Ruby side.
 */
#ifndef PM_MRB_REGEXP_H
#define PM_MRB_REGEXP_H

#include <stddef.h>
#include <mruby.h>

struct mrb_irep;

/*
 * Define Regexp, RegexpError, MatchData, the String methods and the
 * last-match globals ($~, $1..$9, $&, $`, $', $+) in one VM. Call once per
 * VM, after mrb_open and before loading handlers. Safe to call from several
 * threads at once on different VMs: all state lives in the VM.
 */
void pm_mrb_regexp_init(mrb_state *mrb);

/*
 * Set $~, $1..$9, $&, $`, $' and $+ to nil, so that a handler run never sees
 * the captures of an earlier run (another session's data) on the same VM.
 * Never allocates and never raises: safe outside mrb_top_run.
 */
void pm_regexp_reset_last_match(mrb_state *mrb);

/*
 * Oniguruma allocates with malloc, outside mruby's allocator. A charge
 * function lets the embedder count that memory against the VM's budget:
 * it is called with +bytes before a compiled program or a match region is
 * kept for mrb and must return 0 to allow it (non-zero: over budget), and
 * with -bytes when that memory is freed (must then return 0). Sizes are
 * estimates (docs/regexp.md). Over budget, the regexp code runs a full GC
 * once and retries, then raises NoMemoryError. Without a charge function
 * nothing is counted. Any thread; set before the VMs that rely on it.
 */
typedef int pm_regexp_charge_fn(mrb_state *mrb, ptrdiff_t bytes);
void pm_regexp_set_charge(pm_regexp_charge_fn *fn);

/*
 * Compile every regexp literal of a compiled script (irep and its children)
 * so that a malformed one is reported at load time. On the first bad literal,
 * fill err with "FILE:LINE: message: /source/" and return -1; return 0 if all
 * compile. Literals built with #{} are only known at run time and are skipped.
 * Does not touch the VM's Ruby state (mrb is used only for the debug info).
 */
int pm_regexp_check_irep(mrb_state *mrb, const struct mrb_irep *irep, char *err, size_t errlen);

/*
 * Does this compiled code (irep and its children) read the last-match state:
 * name $~, $1..$9, $&, $`, $', $+ or Regexp.last_match, or reach methods by
 * names it does not spell out (eval, send with a computed name, to_sym...)?
 * Errs towards 1 ("reads"); docs/regexp.md lists what counts. Reads the
 * irep only (mrb for symbol names); any thread.
 */
int pm_regexp_irep_reads_last_match(mrb_state *mrb, const struct mrb_irep *irep);

/*
 * Whether the code mrb runs may read the last-match state (default: yes).
 * With 0, Regexp#=~ and #=== (so String#=~, !~ and case/when) match like
 * match? -- no MatchData, no globals -- and no method sets $~ and the rest.
 * Project preludes that read it (pm_regexp_load_prelude) keep it on anyway.
 * Call after pm_mrb_regexp_init, before running handler code.
 */
void pm_regexp_keep_last_match(mrb_state *mrb, int keep);

/* Run Ruby source that pmilter itself loads into every VM (a binding's
 * prelude), scanning it like handler code: if it reads the last-match state,
 * every VM keeps it. Any thread, one VM per thread at a time. */
void pm_regexp_load_prelude(mrb_state *mrb, const char *src);

#endif
