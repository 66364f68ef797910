/* mrb_output: Kernel#puts, #print and #p for handlers, writing each call's
 * output to stdout with one locked write. mruby's own versions write the text
 * and its newline separately, so lines from concurrent sessions interleave. */
#include <mruby.h>
#include <mruby/array.h>
#include <mruby/string.h>
#include <stdio.h>

#include "ruby/mrb_init.h"

static void emit(mrb_state *mrb, mrb_value out)
{
    flockfile(stdout);
    fwrite(RSTRING_PTR(out), 1, (size_t)RSTRING_LEN(out), stdout);
    fflush(stdout);
    funlockfile(stdout);
}

static void append_line(mrb_state *mrb, mrb_value out, mrb_value v, int depth)
{
    if (mrb_array_p(v) && depth < 64) {
        for (mrb_int i = 0; i < RARRAY_LEN(v); i++)
            append_line(mrb, out, mrb_ary_ref(mrb, v, i), depth + 1);
        return;
    }
    mrb_value s = mrb_obj_as_string(mrb, v);
    mrb_str_cat_str(mrb, out, s);
    if (RSTRING_LEN(s) == 0 || RSTRING_PTR(s)[RSTRING_LEN(s) - 1] != '\n')
        mrb_str_cat_lit(mrb, out, "\n");
}

static mrb_value kernel_puts(mrb_state *mrb, mrb_value self)
{
    const mrb_value *argv;
    mrb_int argc;
    mrb_get_args(mrb, "*", &argv, &argc);
    mrb_value out = mrb_str_new_capa(mrb, 64);
    for (mrb_int i = 0; i < argc; i++)
        append_line(mrb, out, argv[i], 0);
    if (argc == 0)
        mrb_str_cat_lit(mrb, out, "\n");
    emit(mrb, out);
    return mrb_nil_value();
}

static mrb_value kernel_print(mrb_state *mrb, mrb_value self)
{
    const mrb_value *argv;
    mrb_int argc;
    mrb_get_args(mrb, "*", &argv, &argc);
    mrb_value out = mrb_str_new_capa(mrb, 64);
    for (mrb_int i = 0; i < argc; i++)
        mrb_str_cat_str(mrb, out, mrb_obj_as_string(mrb, argv[i]));
    emit(mrb, out);
    return mrb_nil_value();
}

static mrb_value kernel_p(mrb_state *mrb, mrb_value self)
{
    const mrb_value *argv;
    mrb_int argc;
    mrb_get_args(mrb, "*", &argv, &argc);
    mrb_value out = mrb_str_new_capa(mrb, 64);
    for (mrb_int i = 0; i < argc; i++) {
        mrb_str_cat_str(mrb, out, mrb_inspect(mrb, argv[i]));
        mrb_str_cat_lit(mrb, out, "\n");
    }
    emit(mrb, out);
    if (argc == 0)
        return mrb_nil_value();
    return argc == 1 ? argv[0] : mrb_ary_new_from_values(mrb, argc, argv);
}

void pm_mrb_output_init(mrb_state *mrb)
{
    mrb_define_method(mrb, mrb->kernel_module, "puts", kernel_puts, MRB_ARGS_ANY());
    mrb_define_method(mrb, mrb->kernel_module, "print", kernel_print, MRB_ARGS_ANY());
    mrb_define_method(mrb, mrb->kernel_module, "p", kernel_p, MRB_ARGS_ANY());
}
