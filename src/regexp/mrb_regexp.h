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
 * Compile every regexp literal of a compiled script (irep and its children)
 * so that a malformed one is reported at load time. On the first bad literal,
 * fill err with "FILE:LINE: message: /source/" and return -1; return 0 if all
 * compile. Literals built with #{} are only known at run time and are skipped.
 * Does not touch the VM's Ruby state (mrb is used only for the debug info).
 */
int pm_regexp_check_irep(mrb_state *mrb, const struct mrb_irep *irep, char *err, size_t errlen);

#endif
