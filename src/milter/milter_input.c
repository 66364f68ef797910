/* milter_input: repairs MTA input that Debian's libmilter would mishandle,
 * before libmilter parses it. Linked with -Wl,--wrap=mi_rd_cmd (libmilter is
 * static; its engine reads every command through mi_rd_cmd).
 *
 * A macro command (SMFIC_MACRO) carries name\0value\0 pairs. With an odd
 * number of strings, smfi_getsymval walks two at a time past the end of the
 * list and crashes the whole process: one bad frame from any client of the
 * socket would stop mail for everyone. An empty value is appended instead.
 *
 * It also remembers which connection the calling worker serves, for the
 * watchdog (watchdog.c), and the command it read last (milter_input.h).
 * Threads: libmilter's workers; everything here is per thread. */
#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "milter/milter_input.h"
#include "ruby/watchdog.h"

char *__real_mi_rd_cmd(int sd, struct timeval *timeout, char *cmd, size_t *rlen, char *name);
char *__wrap_mi_rd_cmd(int sd, struct timeval *timeout, char *cmd, size_t *rlen, char *name);

/* The connection the calling worker reads from: the one its next callback serves. */
static _Thread_local int current_fd = -1;
static _Thread_local int current_command; /* 0 after a failed read */

int pm_current_mta_fd(void)
{
    return current_fd;
}

int pm_current_mta_command(void)
{
    return current_command;
}

size_t pm_count_nuls(const char *p, size_t n)
{
    const uint64_t low7 = 0x7f7f7f7f7f7f7f7fULL, ones = 0x0101010101010101ULL;
    size_t count = 0, i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, sizeof w);
        /* 0x80 in each byte that is 0, else 0: no carry crosses a byte */
        uint64_t zero = ~(((w & low7) + low7) | w | low7);
        count += (size_t)(((zero >> 7) * ones) >> 56); /* sum of the bytes' 0/1 */
    }
    for (; i < n; i++)
        count += p[i] == '\0';
    return count;
}

char *__wrap_mi_rd_cmd(int sd, struct timeval *timeout, char *cmd, size_t *rlen, char *name)
{
    current_fd = sd;
    char *buf = __real_mi_rd_cmd(sd, timeout, cmd, rlen, name);
    current_command = buf || *cmd == SMFIC_QUIT || *cmd == SMFIC_QUIT_NC ? *cmd : 0;
    if (buf == NULL || *cmd != SMFIC_MACRO || *rlen < 1)
        return buf;
    /* buf[0] is the command the macros belong to; the strings follow. */
    if (pm_count_nuls(buf + 1, *rlen - 1) % 2 == 0)
        return buf;
    char *fixed = realloc(buf, *rlen + 2);
    if (fixed == NULL) {
        free(buf);
        *cmd = SMFIC_QUIT; /* libmilter then ends the session cleanly */
        *rlen = 0;
        return NULL;
    }
    fixed[*rlen] = '\0'; /* the missing value: "" */
    fixed[*rlen + 1] = '\0';
    *rlen += 1;
    return fixed;
}
