#!/usr/bin/env python3
"""Record the MTA side of real milter sessions as fuzz seeds.

usage: record.py LISTEN_PATH UPSTREAM_PATH OUT_PREFIX [COUNT]
Listens on the unix socket LISTEN_PATH, forwards each connection to the milter
at UPSTREAM_PATH (both ways), and writes the frames the client sent to
OUT_PREFIX-N.txt in the seed format milterfuzz reads (test/fuzz/seeds/README).
Stops after COUNT connections (default 1). Point pmilter-client or miltertest
at LISTEN_PATH to make a seed from a real session.
"""
import os, select, socket, struct, sys

def esc(b):
    out = []
    for c in b:
        if c == 0x5c: out.append("\\\\")
        elif 0x20 <= c < 0x7f: out.append(chr(c))
        elif c == 0x0a: out.append("\\n")
        elif c == 0x0d: out.append("\\r")
        elif c == 0x09: out.append("\\t")
        else: out.append("\\x%02x" % c)
    return "".join(out)

def main():
    listen, upstream, prefix = sys.argv[1:4]
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    if os.path.exists(listen): os.unlink(listen)
    ls = socket.socket(socket.AF_UNIX); ls.bind(listen); ls.listen(8)
    for n in range(count):
        c, _ = ls.accept()
        u = socket.socket(socket.AF_UNIX); u.connect(upstream)
        buf = b""; frames = []
        while True:
            r, _, _ = select.select([c, u], [], [], 30)
            if not r: break
            if c in r:
                d = c.recv(65536)
                if not d: break
                u.sendall(d); buf += d
                while len(buf) >= 4:
                    ln = struct.unpack(">I", buf[:4])[0]
                    if len(buf) < 4 + ln: break
                    frames.append(buf[4:4 + ln]); buf = buf[4 + ln:]
            if u in r:
                d = u.recv(65536)
                if not d: break
                c.sendall(d)
        c.close(); u.close()
        with open("%s-%d.txt" % (prefix, n), "w") as f:
            f.write("# recorded by test/fuzz/record.py: one client frame per line, command letter then payload\n")
            for fr in frames:
                f.write("%s %s\n" % (esc(fr[:1]), esc(fr[1:])))
    ls.close(); os.unlink(listen)

main()
