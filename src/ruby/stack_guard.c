/* stack_guard: per-thread stack bounds, alternate signal stack and the
 * SIGSEGV/SIGBUS handler that turns a stack overflow in Ruby into a jump
 * back to the VM's caller (see stack_guard.h). Any thread. */
#include "ruby/stack_guard.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#define ALT_STACK_SIZE (64 * 1024)
/* Faults this far below the lowest stack address count as overflow: the
 * guard page(s), or the gap the kernel keeps below the main thread's stack. */
#define ZONE_BELOW (1024 * 1024)
/* Stack kept back for mruby to raise and unwind once the allocator starts
 * refusing: measured use of the raise path is a few KiB (more under ASan). */
#define RESERVE (256 * 1024)

typedef struct {
    sigjmp_buf *volatile overflow; /* armed: where an overflow jumps */
    uintptr_t zone_lo, zone_hi;    /* a fault address in here is an overflow */
    uintptr_t low_mark;            /* below this, the allocator refuses memory */
    int ready;                     /* bounds learnt, alternate stack in place */
} guard_t;

static __thread guard_t guard; /* initial-exec TLS: safe to read in the handler */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t alt_stack_key; /* the alternate stack we mapped for a thread */
static struct sigaction previous_segv, previous_bus;

/* Not an overflow of a guarded stack: whoever handled the signal before us
 * (ASan) gets it, else the default action. Returning re-runs the faulting
 * access, which then kills the process with the signal as before. */
static void pass_on(int sig, siginfo_t *info, void *context)
{
    const struct sigaction *prev = sig == SIGBUS ? &previous_bus : &previous_segv;
    if (prev->sa_flags & SA_SIGINFO) {
        prev->sa_sigaction(sig, info, context);
        return;
    }
    if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
        prev->sa_handler(sig);
        return;
    }
    signal(sig, SIG_DFL);
    if (info->si_code <= 0)
        raise(sig); /* sent by kill(2): there is no access to re-run */
}

static void on_fault(int sig, siginfo_t *info, void *context)
{
    uintptr_t addr = (uintptr_t)info->si_addr;
    sigjmp_buf *to = guard.overflow;
    if (to && info->si_code > 0 && addr >= guard.zone_lo && addr < guard.zone_hi) {
        guard.overflow = NULL;
        siglongjmp(*to, 1);
    }
    pass_on(sig, info, context);
}

static void drop_alt_stack(void *mapped)
{
    stack_t current;
    if (sigaltstack(NULL, &current) == 0 && current.ss_sp == mapped) {
        stack_t off = {.ss_flags = SS_DISABLE};
        sigaltstack(&off, NULL);
    }
    munmap(mapped, ALT_STACK_SIZE);
}

static void install_handler(void)
{
    pthread_key_create(&alt_stack_key, drop_alt_stack);
    /* SA_NODEFER: the handler runs with the thread's own signal mask, so the
     * jump back needs no mask restore (sigsetjmp(..., 0): no syscall per run). */
    struct sigaction sa = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &previous_segv);
    sigaction(SIGBUS, &sa, &previous_bus);
}

/* The handler of an overflow runs on this thread's alternate stack: the
 * thread's own has no room left. Keeps one already set (ASan sets its own). */
static void ensure_alt_stack(void)
{
    stack_t current;
    if (sigaltstack(NULL, &current) != 0 || !(current.ss_flags & SS_DISABLE))
        return;
    void *mapped = mmap(NULL, ALT_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED)
        return;
    stack_t alt = {.ss_sp = mapped, .ss_size = ALT_STACK_SIZE};
    if (sigaltstack(&alt, NULL) != 0) {
        munmap(mapped, ALT_STACK_SIZE);
        return;
    }
    pthread_setspecific(alt_stack_key, mapped); /* unmapped when the thread ends */
}

/* Learns the calling thread's stack once. Without bounds (pthread_getattr_np
 * failed) the thread runs unguarded, as before. */
static void learn_thread(void)
{
    guard.ready = 1;
    ensure_alt_stack();
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return;
    void *addr;
    size_t size;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
        uintptr_t lo = (uintptr_t)addr, here = (uintptr_t)__builtin_frame_address(0);
        /* The reserve is a share of the room below us, not of the mapping: its
         * top holds the thread's static TLS (768 KiB of it under TSan). */
        uintptr_t room = here > lo && here - lo < size ? here - lo : size;
        guard.zone_lo = lo > ZONE_BELOW ? lo - ZONE_BELOW : 0;
        guard.zone_hi = lo + (uintptr_t)sysconf(_SC_PAGESIZE);
        guard.low_mark = lo + (RESERVE < room / 2 ? RESERVE : room / 2);
    }
    pthread_attr_destroy(&attr);
}

void pm_stack_guard_arm(sigjmp_buf *overflow)
{
    if (!guard.ready) { /* a thread's first run: ready implies the handler is installed */
        pthread_once(&once, install_handler);
        learn_thread();
    }
    guard.overflow = overflow;
}

void pm_stack_guard_disarm(void)
{
    guard.overflow = NULL;
}

int pm_stack_guard_low(void)
{
    return guard.overflow && (uintptr_t)__builtin_frame_address(0) < guard.low_mark;
}
