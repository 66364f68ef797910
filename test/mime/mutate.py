#!/usr/bin/env python3
"""Writes N mutated copies of the corpus messages (seeded, so a failure can be
replayed): bytes flipped, lines dropped or duplicated, boundaries cut, bodies
truncated, base64 and headers damaged. Usage: mutate.py CORPUS_DIR OUT_DIR N SEED"""
import os, random, sys

src, out, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rnd = random.Random(seed)
files = sorted(f for f in os.listdir(src) if f.endswith(".eml") and "tiny-parts" not in f)
os.makedirs(out, exist_ok=True)

def mutate(data):
    lines = data.split(b"\n")
    for _ in range(rnd.randint(1, 6)):
        op = rnd.randrange(7)
        i = rnd.randrange(len(lines))
        if op == 0 and lines[i]:  # flip a byte
            j = rnd.randrange(len(lines[i]))
            lines[i] = lines[i][:j] + bytes([rnd.randrange(256)]) + lines[i][j + 1:]
        elif op == 1:
            del lines[i]
        elif op == 2:
            lines.insert(i, lines[rnd.randrange(len(lines))])
        elif op == 3:  # cut a boundary line short
            for k, l in enumerate(lines):
                if l.startswith(b"--"):
                    lines[k] = l[:rnd.randrange(len(l) + 1)]
                    break
        elif op == 4:
            lines = lines[:rnd.randrange(1, len(lines) + 1)]
        elif op == 5:  # hostile parameters
            lines.insert(i, rnd.choice([b"Content-Type: multipart/mixed; boundary=\"\"",
                                        b"Content-Disposition: attachment; filename*0*=x''%ZZ%; filename*99=y",
                                        b"Subject: =?UTF-8?B?////?= =?x?Q?=FF=?=",
                                        b"Content-Transfer-Encoding: base64", b"Content-Type: message/rfc822"]))
        else:
            lines.insert(i, b"=" * rnd.randrange(1, 200))
        if not lines:
            lines = [b""]
    return b"\n".join(lines)

for k in range(n):
    name = files[k % len(files)]
    with open(os.path.join(src, name), "rb") as f:
        data = f.read()
    with open(os.path.join(out, "%03d-%s" % (k, name)), "wb") as f:
        f.write(mutate(data))
