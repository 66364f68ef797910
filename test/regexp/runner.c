/*
 * runner.c - test driver for src/regexp.
 *   runner FILE.rb          run FILE in a fresh VM after pm_mrb_regexp_init;
 *                           an uncaught exception prints "EXC Class: msg", exit 1
 *   runner --check FILE.rb  compile FILE (do not run it) and print the result of
 *                           pm_regexp_check_irep: "0" or "-1 FILE:LINE: message"
 *   runner --reads FILE.rb  compile FILE and print pm_regexp_irep_reads_last_match
 *                           of it, then of its top-level code with one unknown
 *                           opcode / one cut-short SEND appended: "R U T"
 *   runner --threads N FILE.rb  run FILE in N threads at once, one VM each
 *   runner --charge-limit BYTES FILE.rb  run FILE with Oniguruma's memory
 *                           charged against BYTES (pm_regexp_set_charge); at
 *                           exit, prints "charged after close: N" (must be 0)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mruby.h>
#include <mruby/compile.h>
#include <mruby/irep.h>
#include <mruby/opcode.h>
#include <mruby/proc.h>
#include <mruby/string.h>

#include "regexp/mrb_regexp.h"

/*
 * __allocs (a Ruby global function): calls to malloc, calloc and realloc
 * so far in this process, mruby's own allocations included (its default
 * allocator is realloc); -1 under the sanitizers, which own malloc. For
 * own/alloc.rb: a search that allocates shows as a difference.
 */
#if defined(__SANITIZE_ADDRESS__)
#define COUNT_ALLOCS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COUNT_ALLOCS 0
#endif
#endif
#ifndef COUNT_ALLOCS
#define COUNT_ALLOCS 1
#endif

#if COUNT_ALLOCS
#include <stdatomic.h>
static atomic_long allocs;
void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void *malloc(size_t n)
{
    atomic_fetch_add(&allocs, 1);
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t m)
{
    atomic_fetch_add(&allocs, 1);
    return __libc_calloc(n, m);
}
void *realloc(void *p, size_t n)
{
    if (n)
        atomic_fetch_add(&allocs, 1);
    return __libc_realloc(p, n);
}
#endif

static mrb_value count_allocs(mrb_state *mrb, mrb_value self)
{
    (void)mrb;
    (void)self;
#if COUNT_ALLOCS
    return mrb_fixnum_value(atomic_load(&allocs));
#else
    return mrb_fixnum_value(-1);
#endif
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        perror(path);
        exit(2);
    }
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* --charge-limit: one VM at a time, so plain counters do. */
static long long charged, charge_limit;

static int charge(mrb_state *mrb, ptrdiff_t bytes)
{
    (void)mrb;
    if (bytes > 0 && charged + bytes > charge_limit)
        return -1;
    charged += bytes;
    return 0;
}

static int run_file(const char *path, int quiet)
{
    size_t len;
    char *src = slurp(path, &len);
    mrb_state *mrb = mrb_open();
    pm_mrb_regexp_init(mrb);
    mrb_define_method(mrb, mrb->kernel_module, "__allocs", count_allocs, MRB_ARGS_NONE());
    mrbc_context *cxt = mrbc_context_new(mrb);
    mrbc_filename(mrb, cxt, path);
    cxt->no_exec = TRUE;
    /* As pmilter does for a config's handlers: =~ keeps $~ only if the file may read it. */
    mrb_value proc = mrb_load_nstring_cxt(mrb, src, len, cxt);
    if (mrb_proc_p(proc)) {
        pm_regexp_keep_last_match(mrb, pm_regexp_irep_reads_last_match(mrb, mrb_proc_ptr(proc)->body.irep));
        mrb_top_run(mrb, mrb_proc_ptr(proc), mrb_top_self(mrb), 0);
    }
    int rc = 0;
    if (mrb->exc) {
        mrb_value exc = mrb_obj_value(mrb->exc);
        mrb->exc = NULL;
        if (!quiet) {
            mrb_value msg = mrb_funcall(mrb, exc, "message", 0);
            printf("EXC %s: %.*s\n", mrb_obj_classname(mrb, exc), (int)RSTRING_LEN(msg), RSTRING_PTR(msg));
        }
        rc = 1;
    }
    mrbc_context_free(mrb, cxt);
    mrb_close(mrb);
    free(src);
    return rc;
}

/* The scan of irep's top level alone with one more instruction byte: op. */
static int reads_with_extra_byte(mrb_state *mrb, const mrb_irep *irep, mrb_code op)
{
    mrb_code *iseq = malloc((size_t)irep->ilen + 1);
    memcpy(iseq, irep->iseq, irep->ilen);
    iseq[irep->ilen] = op;
    mrb_irep copy = *irep;
    copy.iseq = iseq;
    copy.ilen = irep->ilen + 1;
    copy.rlen = 0;
    int r = pm_regexp_irep_reads_last_match(mrb, &copy);
    free(iseq);
    return r;
}

static int check_file(const char *path, int reads)
{
    size_t len;
    char *src = slurp(path, &len);
    mrb_state *mrb = mrb_open();
    pm_mrb_regexp_init(mrb);
    mrbc_context *cxt = mrbc_context_new(mrb);
    mrbc_filename(mrb, cxt, path);
    cxt->no_exec = TRUE;
    struct mrb_parser_state *p = mrb_parse_nstring(mrb, src, len, cxt);
    int rc = 2;
    if (p && p->nerr == 0) {
        struct RProc *proc = mrb_generate_code(mrb, p);
        char err[1024];
        if (reads) {
            printf("%d %d %d\n", pm_regexp_irep_reads_last_match(mrb, proc->body.irep),
                   reads_with_extra_byte(mrb, proc->body.irep, 0xFF), reads_with_extra_byte(mrb, proc->body.irep, OP_SEND));
            rc = 0;
        } else {
            rc = pm_regexp_check_irep(mrb, proc->body.irep, err, sizeof err);
            printf("%d%s%s\n", rc, rc ? " " : "", rc ? err : "");
        }
    } else {
        printf("parse error\n");
    }
    if (p)
        mrb_parser_free(p);
    mrbc_context_free(mrb, cxt);
    mrb_close(mrb);
    free(src);
    return rc == 0 ? 0 : 1;
}

static void *thread_main(void *arg)
{
    return (void *)(long)run_file(arg, 1);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--check") == 0)
        return check_file(argv[2], 0);
    if (argc == 3 && strcmp(argv[1], "--reads") == 0)
        return check_file(argv[2], 1);
    if (argc == 4 && strcmp(argv[1], "--threads") == 0) {
        int n = atoi(argv[2]), bad = 0;
        pthread_t t[64];
        if (n < 1 || n > 64)
            return 2;
        for (int i = 0; i < n; i++)
            pthread_create(&t[i], NULL, thread_main, argv[3]);
        for (int i = 0; i < n; i++) {
            void *r;
            pthread_join(t[i], &r);
            bad += r != NULL;
        }
        printf("%d of %d threads failed\n", bad, n);
        return bad != 0;
    }
    if (argc == 4 && strcmp(argv[1], "--charge-limit") == 0) {
        charge_limit = atoll(argv[2]);
        pm_regexp_set_charge(charge);
        int rc = run_file(argv[3], 0);
        printf("charged after close: %lld\n", charged);
        return rc != 0 || charged != 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: runner [--check | --threads N | --charge-limit BYTES] FILE.rb\n");
        return 2;
    }
    return run_file(argv[1], 0);
}
