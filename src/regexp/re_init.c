/*
 * re_init.c - pm_mrb_regexp_init(): the one entry point. Defines Regexp,
 * MatchData and the String methods in a VM, then the few helpers that read
 * best in Ruby (the prelude below, compiled once per VM); and the switch
 * that lets =~ skip the last-match state when no code reads it.
 * Any thread, one VM per thread at a time.
 */
#include <stdatomic.h>

#include <mruby.h>
#include <mruby/compile.h>
#include <mruby/proc.h>

#include "re_internal.h"
#include "regexp/mrb_regexp.h"

static const char prelude[] =
    "class Regexp\n"
    "  def self.union(*pats)\n"
    "    pats = pats[0] if pats.size == 1 && pats[0].is_a?(Array)\n"
    "    return new('(?!)') if pats.empty?\n"
    "    return pats[0] if pats.size == 1 && pats[0].is_a?(Regexp)\n"
    "    new(pats.map { |x| x.is_a?(Regexp) ? x.to_s : escape(x) }.join('|'))\n"
    "  end\n"
    "end\n"
    "class MatchData\n"
    "  def values_at(*idx)\n"
    "    idx.map { |i| self[i] }\n"
    "  end\n"
    "end\n";

/* Set once any project prelude reads the last-match state: every VM keeps it. */
static atomic_int prelude_reads;

void pm_regexp_load_prelude(mrb_state *mrb, const char *src)
{
    mrbc_context *cxt = mrbc_context_new(mrb);
    cxt->no_exec = TRUE;
    mrb_value proc = mrb_load_string_cxt(mrb, src, cxt);
    mrbc_context_free(mrb, cxt);
    if (!mrb_proc_p(proc))
        return; /* a syntax error in pmilter's own source: the tests that use it fail */
    if (pm_regexp_irep_reads_last_match(mrb, mrb_proc_ptr(proc)->body.irep))
        atomic_store(&prelude_reads, 1);
    mrb_top_run(mrb, mrb_proc_ptr(proc), mrb_top_self(mrb), 0);
}

void pm_regexp_keep_last_match(mrb_state *mrb, int keep)
{
    re_vm(mrb)->keep_last_match = keep || atomic_load(&prelude_reads);
}

void pm_mrb_regexp_init(mrb_state *mrb)
{
    int ai = mrb_gc_arena_save(mrb);
    re_onig_init();
    pm_mrb_regexp_class_init(mrb);
    mrb_gc_arena_restore(mrb, ai);
    pm_mrb_matchdata_init(mrb);
    mrb_gc_arena_restore(mrb, ai);
    pm_mrb_regexp_string_init(mrb);
    mrb_gc_arena_restore(mrb, ai);
    pm_mrb_ruleset_init(mrb);
    mrb_gc_arena_restore(mrb, ai);
    pm_regexp_load_prelude(mrb, prelude);
    mrb_gc_arena_restore(mrb, ai);
}
