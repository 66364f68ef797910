/* stack_guard: keeps deep C recursion inside mruby (Array#join on an array
 * nested 100,000 deep) from overflowing a thread's stack and killing the
 * process. Owns, per thread that runs Ruby, the thread's stack bounds and an
 * alternate signal stack, and process-wide a SIGSEGV/SIGBUS handler.
 *
 * Two lines of defence while a VM runs (between arm and disarm):
 * - pm_stack_guard_low() tells the VM's allocator that less than a reserve
 *   of stack is left; it then refuses memory, mruby raises NoMemoryError and
 *   unwinds cleanly, and vm.c reports SystemStackError. mruby's deep C
 *   recursions (join, inspect, hash, ==, eval) allocate at every level, so
 *   this catches them; and since the allocator never enters malloc with
 *   less than the reserve left, a fault never lands inside malloc (a jump
 *   out of it would leave its lock held and hang the next allocation).
 * - A fault in the guard zone below the stack siglongjmps to the armed
 *   jump buffer: recursion that does not allocate. The VM is then in an
 *   unknown state (vm.c never runs or frees it again). Any other fault gets
 *   the previous handler (ASan's) or the default action: a real crash
 *   still crashes.
 * Any thread may call it; everything it keeps is per thread. */
#ifndef PM_STACK_GUARD_H
#define PM_STACK_GUARD_H
#include <setjmp.h>
#include <stddef.h>

/* Guards the calling thread until pm_stack_guard_disarm: an overflow of its
 * stack siglongjmps to *overflow, set up with sigsetjmp(*overflow, 0) in a
 * frame that stays active meanwhile (the signal mask is never changed, so
 * it needs no saving). */
void pm_stack_guard_arm(sigjmp_buf *overflow);
void pm_stack_guard_disarm(void);
/* Armed and less than the reserve of stack left? Async-signal-safe, cheap. */
int pm_stack_guard_low(void);

#endif
