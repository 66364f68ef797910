/*
 * re_init.c - pm_mrb_regexp_init(): the one entry point. Defines Regexp,
 * MatchData and the String methods in a VM, then the few helpers that read
 * best in Ruby (the prelude below, compiled once per VM).
 * Any thread, one VM per thread at a time.
 */
#include <mruby.h>
#include <mruby/compile.h>

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
    "  def self.last_match(n = nil)\n"
    "    n.nil? ? $~ : $~ && $~[n]\n"
    "  end\n"
    "end\n"
    "class MatchData\n"
    "  def values_at(*idx)\n"
    "    idx.map { |i| self[i] }\n"
    "  end\n"
    "end\n";

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
    mrb_load_string(mrb, prelude);
    mrb_gc_arena_restore(mrb, ai);
}
