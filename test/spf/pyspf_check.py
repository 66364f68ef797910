#!/usr/bin/python3
"""The independent reference for test/spf/run.sh: pyspf (python3-spf) checks
each line "ip sender helo" of stdin against the DNS server on 127.0.0.1:PORT
(argv[1]) and prints "result<TAB>explanation" per line. Queries time out
after argv[2] seconds (default 2)."""
import sys

import dns.resolver
import spf

resolver = dns.resolver.Resolver(configure=False)
resolver.nameservers = ["127.0.0.1"]
resolver.port = int(sys.argv[1])
dns.resolver.default_resolver = resolver
timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0

for line in sys.stdin:
    ip, sender, helo = line.split()
    sender = "" if sender == "-" else sender
    result, explanation = spf.check2(i=ip, s=sender, h=helo, timeout=timeout, querytime=0)
    print("%s\t%s" % (result, explanation), flush=True)
