/* Unit tests for vm.c and vm_pool.c with the stack guard: a handler whose
 * C recursion allocates is stopped by the allocator's stack check (VM
 * DAMAGED, closed); one that does not allocate faults in the guard zone and
 * comes back (VM WRECKED, left allocated); either way the pool makes a new
 * VM and the next run succeeds. Runs on a thread with a 256 KiB stack. */
#include <libmilter/mfapi.h>
#include <mruby.h>
#include <mruby/string.h>
#include <mruby/variable.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/config.h"
#include "ruby/script.h"
#include "ruby/vm.h"
#include "ruby/vm_pool.h"
#include "unit.h"

#pragma GCC diagnostic ignored "-Winfinite-recursion"
/* Kernel#recurse_bare: C recursion without allocation, as no mruby method
 * we know of does; only the signal handler can stop it. */
static int bare(volatile int depth)
{
    volatile char frame[256];
    frame[0] = (char)depth;
    int below = bare(depth + 1);
    return below + frame[0];
}

static mrb_value recurse_bare(mrb_state *mrb, mrb_value self)
{
    return mrb_fixnum_value(bare(0));
}

/* Kernel#recurse_allocating: C recursion that allocates at every level, as
 * Array#join on nested arrays does. */
static mrb_value allocating(mrb_state *mrb, int depth)
{
    mrb_value s = mrb_str_new_lit(mrb, "level");
    mrb_value below = allocating(mrb, depth + 1);
    return RSTRING_LEN(s) ? below : s;
}

static mrb_value recurse_allocating(mrb_state *mrb, mrb_value self)
{
    return allocating(mrb, 0);
}

typedef struct {
    pm_vm_pool_t *pool;
    const pm_config_t *cfg;
    int rc[3];
    char err[3][256];
    pm_vm_state_t state[2];
} run_t;

static int run_once(run_t *r, const char *method, int i)
{
    pm_vm_t *vm = pm_vm_pool_borrow(r->pool, r->err[i], sizeof r->err[i]);
    if (vm == NULL)
        return -2;
    mrb_define_method(vm->mrb, vm->mrb->kernel_module, "recurse_bare", recurse_bare, MRB_ARGS_NONE());
    mrb_define_method(vm->mrb, vm->mrb->kernel_module, "recurse_allocating", recurse_allocating, MRB_ARGS_NONE());
    mrb_gv_set(vm->mrb, mrb_intern_lit(vm->mrb, "$what"), mrb_str_new_cstr(vm->mrb, method));
    pm_call_t call = {.cfg = r->cfg, .phase = PM_PHASE_ENVFROM, .status = SMFIS_CONTINUE};
    int rc = pm_vm_run(vm, &call, r->err[i], sizeof r->err[i]);
    if (i < 2)
        r->state[i] = vm->state;
    pm_vm_pool_give_back(r->pool, vm);
    return rc;
}

static void *on_small_stack(void *arg)
{
    run_t *r = arg;
    r->rc[0] = run_once(r, "recurse_allocating", 0);
    r->rc[1] = run_once(r, "recurse_bare", 1);
    r->rc[2] = run_once(r, "nothing", 2);
    return NULL;
}

int main(void)
{
    char dir[] = "/tmp/pm-test-vm.XXXXXX", path[64], err[512];
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof path, "%s/envfrom.rb", dir);
    FILE *f = fopen(path, "w");
    fputs("send($what) unless $what == \"nothing\"\n", f);
    fclose(f);
    const char *text = "[server]\nlisten = \"t.sock\"\n[handler.session]\nmruby_envfrom_handler = \"envfrom.rb\"\n";
    pm_config_t *cfg = pm_config_load_string(text, strlen(text), "t.conf", dir, err, sizeof err);
    pm_scripts_t *scripts = cfg ? pm_scripts_compile(cfg, err, sizeof err) : NULL;
    pm_vm_pool_t *pool = scripts ? pm_vm_pool_new(scripts, 1, 1, 64 << 20, err, sizeof err) : NULL;
    CHECK("vm: the test handler compiles and a pool is made", pool != NULL);
    if (pool == NULL) {
        printf("  %s\n", err);
        return 1;
    }
    run_t r = {.pool = pool, .cfg = cfg};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_t t;
    pthread_create(&t, &attr, on_small_stack, &r);
    pthread_join(t, NULL);
    CHECK("vm: allocating C recursion fails the run", r.rc[0] == -1);
    CHECK("vm: ... reported as SystemStackError naming the handler", strstr(r.err[0], "envfrom.rb: stack level too deep (SystemStackError)") != NULL);
    CHECK("vm: ... and the VM is closed and replaced (DAMAGED)", r.state[0] == PM_VM_DAMAGED);
    CHECK("vm: bare C recursion fails the run", r.rc[1] == -1);
    CHECK("vm: ... reported as SystemStackError too", strstr(r.err[1], "envfrom.rb: stack level too deep (SystemStackError)") != NULL);
    CHECK("vm: ... and the VM is never touched again (WRECKED)", r.state[1] == PM_VM_WRECKED);
    CHECK("vm: the next run, on a new VM, succeeds", r.rc[2] == 0);
    CHECK("vm: the pool holds one VM again", pm_vm_pool_size(pool) == 1);
    pm_vm_pool_free(pool);
    pm_scripts_free(scripts);
    pm_config_free(cfg);
    unlink(path);
    rmdir(dir);
    return unit_failures != 0;
}
