/* milter_input: MTA input repair before libmilter parses it (milter_input.c),
 * and what the calling libmilter worker read last. Threads: libmilter's
 * workers; each sees its own values. */
#ifndef PM_MILTER_INPUT_H
#define PM_MILTER_INPUT_H
#include <stddef.h>

/* The command letter (SMFIC_*) the calling worker read last, 0 if the read
 * failed: on_close tells QUIT_NC (the connection carries on) from the end. */
int pm_current_mta_command(void);

/* How many NUL bytes the n bytes at p hold (a macro frame's string count).
 * Reads 8 bytes at a time: this runs on every macro frame of every message. */
size_t pm_count_nuls(const char *p, size_t n);

#endif
