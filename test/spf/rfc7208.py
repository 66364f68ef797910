#!/usr/bin/python3
"""Flattens the official RFC 7208 test suite (the YAML file python3-spf ships)
into the tab-separated lines test/spf/spf_suite.c reads, at test time:
  S <tab> scenario description           a new scenario: its zone replaces the last one
  R <tab> name <tab> type <tab> value    one zone record, in the file's order:
        A, AAAA, MX ("pref host"), PTR, CNAME, TXT (its strings joined),
        type TIMEOUT (value "*": every query of the name not answered by a
        record before it times out; or value TYPE: that type times out)
  T <tab> id <tab> ip <tab> mailfrom <tab> helo <tab> results <tab> explanation
        results: the allowed results, comma-separated; explanation "-" when
        the test gives none, else "=" and the text.
Fields escape backslash, tab, CR, LF and NUL (as backslash-zero, read back as byte 0xff: see spf.h).
Zone semantics follow the suite's own driver (testspf.py in python3-spf's
documentation): SPF-type (99) records stand in as TXT records of a name that
has no TXT record; a TXT record "NONE" means "no TXT record"."""
import gzip
import sys

import yaml

SUITE = "/usr/share/doc/python3-spf/rfc7208-tests.yml.gz"


def esc(s):
    s = str(s)
    for a, b in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"), ("\0", "\\0")):
        s = s.replace(a, b)
    return s


def strings(v):
    return [v] if isinstance(v, str) else list(v)


def records(name, entries):
    """(type, value) pairs of one name, as the suite's driver serves them."""
    has_txt = any(isinstance(e, dict) and "TXT" in e for e in entries)
    out, spf = [], []
    for e in entries:
        if e == "TIMEOUT":
            out.append(("TIMEOUT", "*"))
            continue
        for t, v in e.items():
            if v == "TIMEOUT":
                out.append(("TIMEOUT", t))
            elif t == "TXT":
                if strings(v) != ["NONE"]:
                    out.append(("TXT", "".join(strings(v))))
            elif t == "SPF":
                if not has_txt and strings(v) != ["NONE"]:
                    spf.append(("TXT", "".join(strings(v))))
            elif t == "MX":
                out.append(("MX", "%s %s" % (v[0], v[1])))
            else:
                out.append((t, v))
    return out + spf


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else SUITE
    w = sys.stdout.write
    for scenario in yaml.safe_load_all(gzip.open(path)):
        w("S\t%s\n" % esc(scenario["description"]))
        for name, entries in scenario.get("zonedata", {}).items():
            for t, v in records(name, entries):
                w("R\t%s\t%s\t%s\n" % (esc(name), t, esc(v)))
        for tid, t in scenario["tests"].items():
            results = t["result"] if isinstance(t["result"], list) else [t["result"]]
            exp = "-" if "explanation" not in t else "=" + esc(t["explanation"])
            w("T\t%s\t%s\t%s\t%s\t%s\t%s\n" % (tid, t["host"], esc(t.get("mailfrom", "")),
                                               esc(t.get("helo", "")), ",".join(results), exp))


if __name__ == "__main__":
    main()
