#!/usr/bin/env python3
"""Extracts the runnable examples of a Markdown file.

Every ```ruby block must follow a line
    <!-- example phase=PHASE verdict=VERDICT [args="..."] [client="..."] [stdout="..."] -->
For example N it writes OUT/N/handler.rb and OUT/N/meta (shell-quoted
assignments: phase, verdict, args, client, stdout, line). Exit 1 if a ruby
block has no example line, so no example in the docs goes untested."""
import re, shlex, sys

doc, out = sys.argv[1], sys.argv[2]
lines = open(doc, encoding="utf-8").read().split("\n")
attr = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')
n = 0
bad = 0
i = 0
while i < len(lines):
    if lines[i].strip() == "```ruby":
        prev = lines[i - 1].strip() if i > 0 else ""
        m = re.fullmatch(r"<!-- example (.*) -->", prev)
        start = i + 1
        j = start
        while lines[j].strip() != "```":
            j += 1
        if not m:
            print(f"{doc}:{i + 1}: ruby block without an <!-- example ... --> line", file=sys.stderr)
            bad = 1
        else:
            n += 1
            meta = {"line": str(i + 1)}
            for k, v in attr.findall(m.group(1)):
                if v.startswith('"'):
                    v = v[1:-1].replace('\\"', '"')
                meta[k] = v
            import os
            os.makedirs(f"{out}/{n}", exist_ok=True)
            with open(f"{out}/{n}/handler.rb", "w", encoding="utf-8") as f:
                f.write("\n".join(lines[start:j]) + "\n")
            with open(f"{out}/{n}/meta", "w", encoding="utf-8") as f:
                for k in ("phase", "verdict", "args", "client", "stdout", "line"):
                    f.write(f"{k}={shlex.quote(meta.get(k, ''))}\n")
        i = j
    i += 1
print(n)
sys.exit(bad)
