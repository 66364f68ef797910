/* Unit tests for actions.c: what may reach libmilter as a header, address or reply. */
#include <stdlib.h>

#include "milter/actions.h"
#include "unit.h"

static int name_ok(const char *n)
{
    char err[128];
    return pm_valid_header_name(n, err, sizeof err) == 0;
}

static int reply_line_ok(const char *line)
{
    char err[256];
    char *lines[] = {(char *)line};
    return pm_valid_reply("550", "5.7.1", lines, 1, err, sizeof err) == 0;
}

/* A line of n copies of c. Caller frees. */
static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void reply_checks(void)
{
    char *escaped = pm_reply_escape("100% sure, 50%% off");
    CHECK_STR("reply: each % is doubled for the MTA", escaped, "100%% sure, 50%%%% off");
    free(escaped);
    escaped = pm_reply_escape("no percent");
    CHECK_STR("reply: text without % unchanged", escaped, "no percent");
    free(escaped);
    char *line = repeat('a', 980);
    CHECK("reply: a 980-byte line is accepted", reply_line_ok(line));
    free(line);
    line = repeat('a', 981);
    CHECK("reply: a 981-byte line is refused (libmilter would drop it)", !reply_line_ok(line));
    free(line);
    line = repeat('%', 490);
    CHECK("reply: 490 '%' (980 bytes escaped) accepted", reply_line_ok(line));
    free(line);
    line = repeat('%', 491);
    CHECK("reply: 491 '%' (982 bytes escaped) refused", !reply_line_ok(line));
    char err[256];
    char *lines[] = {"first", line};
    CHECK("reply: a long second line is refused too", pm_valid_reply("450", NULL, lines, 2, err, sizeof err) != 0);
    CHECK("reply: the error names the line and the limit", strstr(err, "reply line 2") && strstr(err, "980"));
    free(line);
}

static int value_ok(const char *v)
{
    char err[128];
    return pm_valid_header_value(v, strlen(v), err, sizeof err) == 0;
}

int main(void)
{
    CHECK("header name: X-Pmilter", name_ok("X-Pmilter"));
    CHECK("header name: all printable but colon", name_ok("!#$%&'*+-.^_`|~09AZaz"));
    CHECK("header name: empty refused", !name_ok(""));
    CHECK("header name: colon refused", !name_ok("X:Y"));
    CHECK("header name: space refused", !name_ok("X Y"));
    CHECK("header name: non-ASCII refused", !name_ok("X-\xc3\xa9"));
    char long_name[1000];
    memset(long_name, 'a', 998);
    long_name[998] = '\0';
    CHECK("header name: 998 bytes refused", !name_ok(long_name));
    CHECK("header value: plain", value_ok("Enable"));
    CHECK("header value: empty", value_ok(""));
    CHECK("header value: CRLF folding", value_ok("a\r\n b"));
    CHECK("header value: LF folding with tab", value_ok("a\n\tb"));
    CHECK("header value: bare CRLF refused", !value_ok("a\r\nX-Injected: 1"));
    CHECK("header value: bare LF refused", !value_ok("a\nb"));
    CHECK("header value: trailing CRLF refused", !value_ok("a\r\n"));
    CHECK("header value: bare CR refused", !value_ok("a\rb"));
    char err[128];
    CHECK("header value: NUL refused", pm_valid_header_value("a\0b", 3, err, sizeof err) != 0);
    CHECK("envelope: address ok", pm_valid_envelope("sender", "<a@b>", 5, err, sizeof err) == 0);
    CHECK("envelope: empty refused", pm_valid_envelope("sender", "", 0, err, sizeof err) != 0);
    CHECK("envelope: CR LF refused", pm_valid_envelope("sender", "<a@b>\r\nRCPT", 11, err, sizeof err) != 0);
    reply_checks();
    return unit_failures ? 1 : 0;
}
