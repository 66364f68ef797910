/* mrb_init: defines pmilter's Ruby API in a fresh VM. Each binding file
 * exports one pm_mrb_<class>_init; this calls them in order. The VM's
 * mrb->ud points to the current pm_call_t while a handler runs.
 * Threads: whichever thread creates the VM (vm.c), one VM per thread at a time. */
#ifndef PM_MRB_INIT_H
#define PM_MRB_INIT_H
#include <mruby.h>

#include "milter/session.h"

void pm_mrb_init(mrb_state *mrb);

void pm_mrb_pmilter_init(mrb_state *mrb);
void pm_mrb_session_init(mrb_state *mrb);
void pm_mrb_headers_init(mrb_state *mrb);
void pm_mrb_output_init(mrb_state *mrb);
void pm_mrb_session_actions_init(mrb_state *mrb);
void pm_mrb_store_init(mrb_state *mrb);
void pm_mrb_dns_init(mrb_state *mrb);
void pm_mrb_kv_init(mrb_state *mrb);
void pm_mrb_metrics_init(mrb_state *mrb);
void pm_mrb_mime_init(mrb_state *mrb);
void pm_mrb_spf_init(mrb_state *mrb);
void pm_mrb_auth_init(mrb_state *mrb);

/* Raises ArgumentError if a reply code (rcode, or the pending one when NULL)
 * contradicts status: reject needs 5xx, tempfail 4xx. */
void pm_mrb_check_reply_matches(mrb_state *mrb, const pm_call_t *call, int status, const char *rcode);

/* The call a binding runs in; raises if none (a method called at load time). */
pm_call_t *pm_mrb_call(mrb_state *mrb);

/* Milliseconds since t0 (CLOCK_MONOTONIC). */
double pm_mrb_ms_since(const struct timespec *t0);
/* What handler_timeout leaves the running callback for a network wait, less
 * 100 ms for the handler to act on the answer; never below 0. 600000 (the
 * longest [dns]/[kv] timeout) when the call has no start time (not in a phase). */
double pm_mrb_wait_left_ms(const pm_call_t *call);
/* Raises Pmilter::PhaseError unless the current phase is `phase`. */
void pm_mrb_require_phase(mrb_state *mrb, pm_phase_t phase, const char *method);
/* After an actions.c call: raises ArgumentError for bad input (PM_ACTION_INVALID),
 * RuntimeError when libmilter refused (PM_ACTION_FAILED); returns on success. */
void pm_mrb_raise_action(mrb_state *mrb, int rc, const char *method, const char *err);
/* Defines c.new as Class#new without its per-call Array and Hash (mrb_init.c). */
void pm_mrb_define_plain_new(mrb_state *mrb, struct RClass *c);
/* A Ruby String copy of s; "" for NULL (an absent fact reads as "", never nil). */
mrb_value pm_mrb_str(mrb_state *mrb, const char *s);

#endif
