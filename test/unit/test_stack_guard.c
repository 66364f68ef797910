/* Unit tests for stack_guard.c: an overflow of an armed thread's stack comes
 * back through siglongjmp, on worker threads and repeatedly; any other fault
 * still kills the process by its signal. */
#include "ruby/stack_guard.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

/* Recursion that allocates nothing, as the signal handler must catch it:
 * the allocator's check never sees it. */
#pragma GCC diagnostic ignored "-Winfinite-recursion"
#pragma GCC diagnostic ignored "-Warray-bounds"
static int recurse(volatile int depth)
{
    volatile char frame[512];
    frame[0] = (char)depth;
    int below = recurse(depth + 1);
    return below + frame[0]; /* read after the call: no tail call */
}

/* Recursion that stops when the guard says the stack runs low. */
static int recurse_until_low(int depth)
{
    volatile char frame[512];
    frame[0] = (char)depth;
    if (pm_stack_guard_low())
        return depth;
    int below = recurse_until_low(depth + 1);
    return below + (frame[0] & 0); /* read after the call: no tail call */
}

/* 1 if an overflow while armed came back through the jump buffer. */
static int overflow_comes_back(void)
{
    sigjmp_buf overflow;
    if (sigsetjmp(overflow, 0)) {
        pm_stack_guard_disarm();
        return 1;
    }
    pm_stack_guard_arm(&overflow);
    recurse(0);
    pm_stack_guard_disarm();
    return 0;
}

static int low_before_overflow(void)
{
    sigjmp_buf overflow;
    if (sigsetjmp(overflow, 0)) {
        pm_stack_guard_disarm();
        return 0;
    }
    pm_stack_guard_arm(&overflow);
    int depth = recurse_until_low(0);
    pm_stack_guard_disarm();
    return depth > 0;
}

static void *on_worker(void *arg)
{
    int *results = arg;
    results[0] = overflow_comes_back();
    results[1] = overflow_comes_back(); /* the same thread, again */
    results[2] = low_before_overflow();
    return NULL;
}

/* Runs fn in a child (stderr silenced). 1 if it died of the fault as an
 * unguarded process would: by SIGSEGV, or under ASan by ASan's report
 * (exit status 1). Exit status 3 means the guard took it for an overflow. */
static int child_crashes(void (*fn)(void))
{
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        fn();
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
#ifdef __SANITIZE_ADDRESS__
    return WIFEXITED(status) && WEXITSTATUS(status) == 1;
#else
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
#endif
}

static void null_write_while_armed(void)
{
    sigjmp_buf overflow;
    if (sigsetjmp(overflow, 0))
        _exit(3); /* wrongly taken for an overflow */
    pm_stack_guard_arm(&overflow);
    *(volatile int *)(uintptr_t)8 = 1;
}

static void overflow_unarmed(void)
{
    sigjmp_buf overflow;
    if (sigsetjmp(overflow, 0))
        _exit(3);
    pm_stack_guard_arm(&overflow);
    pm_stack_guard_disarm();
    recurse(0);
}

int main(void)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (int i = 0; i < 2; i++) { /* a second thread reuses the process-wide handler */
        int results[3] = {0, 0, 0};
        pthread_t t;
        pthread_create(&t, &attr, on_worker, results);
        pthread_join(t, NULL);
        char name[3][96];
        snprintf(name[0], sizeof name[0], "stack_guard: worker %d: an overflow comes back", i + 1);
        snprintf(name[1], sizeof name[1], "stack_guard: worker %d: a second overflow on the same thread comes back", i + 1);
        snprintf(name[2], sizeof name[2], "stack_guard: worker %d: the stack reads low before it overflows", i + 1);
        for (int k = 0; k < 3; k++)
            CHECK(name[k], results[k]);
    }
    CHECK("stack_guard: an overflow on the main thread comes back", overflow_comes_back());
    CHECK("stack_guard: a fault that is no overflow still crashes", child_crashes(null_write_while_armed));
    CHECK("stack_guard: an overflow while disarmed still crashes", child_crashes(overflow_unarmed));
    return unit_failures != 0;
}
