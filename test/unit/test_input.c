/* Unit tests for milter_input.c's NUL count (the macro frame repair's parity
 * check): the word-at-a-time count equals a byte loop for every length and
 * alignment, with the bytes that break carry-based tricks (0x00, 0x01, 0x7f,
 * 0x80, 0xff) dense in the input. */
#include "milter/milter_input.h"

#include <stdlib.h>

#include "unit.h"

static size_t count_bytewise(const char *p, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += p[i] == '\0';
    return c;
}

int main(void)
{
    static const unsigned char tricky[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 'a'};
    char buf[80];
    int wrong = 0, cases = 0;
    srand(12);
    for (int round = 0; round < 2000; round++) {
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = (char)tricky[rand() % sizeof tricky];
        for (size_t off = 0; off < 8; off++)
            for (size_t n = 0; off + n <= sizeof buf; n += 1 + (round % 3)) {
                cases++;
                wrong += pm_count_nuls(buf + off, n) != count_bytewise(buf + off, n);
            }
    }
    CHECK("count_nuls: equals a byte loop for every length and alignment", wrong == 0 && cases > 100000);
    memset(buf, 0, sizeof buf);
    CHECK("count_nuls: all NUL", pm_count_nuls(buf, sizeof buf) == sizeof buf);
    memset(buf, 0x80, sizeof buf);
    CHECK("count_nuls: no NUL among high-bit bytes", pm_count_nuls(buf, sizeof buf) == 0);
    memcpy(buf, "{x}\0" "1\0" "j\0", 8);
    CHECK("count_nuls: a macro frame's strings", pm_count_nuls(buf, 8) == 3);
    return unit_failures != 0;
}
