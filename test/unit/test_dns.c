/* Unit tests for the decoding side of src/dns (no resolver, no network):
 * reversed names for DNSBL and PTR, record text from wire rdata, and
 * malformed rdata refused rather than read past its end. */
#include "dns/dns.h"
#include "unit.h"

static const char *text(int rrtype, const char *data, size_t len, int *pref)
{
    static char out[512];
    if (pm_dns_rdata_text(rrtype, (const unsigned char *)data, len, out, sizeof out, pref) != 0)
        return "(refused)";
    return out;
}

int main(void)
{
    char name[300];
    int pref = -1;
    CHECK("dns: IPv4 reversed under a zone",
          pm_dns_reverse_name("192.0.2.10", "zen.example", name, sizeof name) == 0 &&
              strcmp(name, "10.2.0.192.zen.example") == 0);
    CHECK("dns: IPv6 reversed in nibbles under ip6.arpa",
          pm_dns_reverse_name("2001:db8::1", NULL, name, sizeof name) == 0 &&
              strcmp(name, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa") == 0);
    CHECK("dns: IPv4-mapped IPv6 (::ffff:a.b.c.d) is reversed as the IPv4 client it is",
          pm_dns_reverse_name("::ffff:192.0.2.1", "bl.example", name, sizeof name) == 0 &&
              strcmp(name, "1.2.0.192.bl.example") == 0);
    CHECK("dns: a non-address is refused", pm_dns_reverse_name("192.0.2", "bl.example", name, sizeof name) == -1);
    CHECK("dns: a reversed name that does not fit is refused", pm_dns_reverse_name("2001:db8::1", NULL, name, 40) == -1);
    CHECK("dns: same address, written two ways", pm_dns_same_address("2001:db8::1", "2001:DB8:0:0::1"));
    CHECK("dns: different families differ", !pm_dns_same_address("127.0.0.1", "::ffff:127.0.0.1"));

    CHECK_STR("dns: A rdata", text(1, "\x7f\x00\x00\x02", 4, &pref), "127.0.0.2");
    CHECK_STR("dns: A rdata of the wrong length", text(1, "\x7f\x00\x00", 3, &pref), "(refused)");
    CHECK_STR("dns: MX rdata", text(15, "\x00\x0a\x02" "mx\x07" "example\x00", 14, &pref), "mx.example");
    CHECK("dns: MX preference", pref == 10);
    CHECK_STR("dns: null MX is the root", text(15, "\x00\x00\x00", 3, &pref), ".");
    CHECK_STR("dns: TXT strings joined", text(16, "\x03v=s\x04pf1 ", 9, &pref), "v=spf1 ");
    CHECK_STR("dns: TXT string longer than its rdata", text(16, "\x09v=s", 4, &pref), "(refused)");
    CHECK_STR("dns: name with a label past the end", text(12, "\x05" "ab", 3, &pref), "(refused)");
    CHECK_STR("dns: name without its root label", text(12, "\x02" "ab", 3, &pref), "(refused)");
    CHECK_STR("dns: compression pointer (never in libunbound's rdata)", text(12, "\xc0\x0c", 2, &pref), "(refused)");
    CHECK_STR("dns: a type it does not decode", text(99, "x", 1, &pref), "(refused)");

    CHECK("dns: type names", pm_dns_type_from_name("mx") == 15 && pm_dns_type_from_name("TYPE65") == 65 &&
                                 pm_dns_type_from_name("NOPE") == -1 && pm_dns_type_from_name("TYPE0") == -1);
    return unit_failures ? 1 : 0;
}
