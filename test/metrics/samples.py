#!/usr/bin/env python3
"""Reads Prometheus text from stdin, parses it with prometheus_client's own
text-format parser (python3-prometheus-client) and prints one line per
sample, `name{a="1",b="2"} value`, labels sorted, integral values without a
decimal point, label values escaped as in the text format, so the shell can grep exact lines. A parse error exits 1."""
import sys

from prometheus_client.parser import text_string_to_metric_families



def escape(value):
    """A label value as the text format writes it."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


try:
    for family in text_string_to_metric_families(sys.stdin.read()):
        print(f"# {family.type} {family.name}")
        for s in family.samples:
            labels = ",".join(f'{k}="{escape(v)}"' for k, v in sorted(s.labels.items()))
            value = int(s.value) if s.value == int(s.value) else s.value
            print(f"{s.name}{{{labels}}} {value}" if labels else f"{s.name} {value}")
except Exception as e:  # the parser raises ValueError and others on bad input
    print(f"parse error: {e}", file=sys.stderr)
    sys.exit(1)
