#!/usr/bin/env python3
"""Holds many negotiated MTA connections open, then checks that every one of them still works.

usage: holdconns.py SOCKET_PATH N GO_FILE [WAIT_SECONDS]
1. Opens N unix-socket connections; on each: negotiation (version 6), connect, helo,
   waiting for every reply. Prints "held N" when all are open (or "FAIL ..." and exits 1).
2. Waits (up to WAIT_SECONDS, default 120) until GO_FILE exists; meanwhile the milter
   serves other load.
3. Plays one message on every held connection (mail, rcpt, header, eoh, body, eom,
   quit) and checks each reply: continue for each phase, and at eom an add-header
   followed by continue.
Prints "held N, answered A, protocol errors E, elapsed S" and exits 0 only if A == N and E == 0.
"""
import os, socket, struct, sys, time

def frame(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data

class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(30)
        self.s.connect(path)
        self.buf = b""
        self.proto = 0  # protocol flags the milter negotiated

    def negotiate(self):
        self.s.sendall(frame(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff)))
        cmd, data = self.read_frame()
        if cmd != b"O" or len(data) < 12:
            raise ValueError("negotiation: got reply %r" % cmd)
        self.proto = struct.unpack(">III", data[:12])[2]

    def read_frame(self):
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack(">I", self.buf[:4])[0]
                if n == 0 or n > 1 << 20:
                    raise ValueError("bad reply length %d" % n)
                if len(self.buf) >= 4 + n:
                    body = self.buf[4:4 + n]; self.buf = self.buf[4 + n:]
                    return body[:1], body[1:]
            got = self.s.recv(65536)
            if not got:
                raise ValueError("connection closed by the milter")
            self.buf += got

    # command -> (SMFIP_NO* : do not send, SMFIP_NR* : no reply), as the milter negotiated
    FLAGS = {b"C": (0x1, 0x1000), b"H": (0x2, 0x2000), b"M": (0x4, 0x4000), b"R": (0x8, 0x8000),
             b"B": (0x10, 0x80000), b"L": (0x20, 0x80), b"N": (0x40, 0x40000)}

    def step(self, cmd, data, want=b"c"):
        no, nr = self.FLAGS.get(cmd, (0, 0))
        if self.proto & no:
            return
        self.s.sendall(frame(cmd, data))
        if self.proto & nr:
            return
        got, _ = self.read_frame()
        if got != want:
            raise ValueError("%s: got reply %r, want %r" % (cmd.decode(), got, want))

def z(*parts):
    return b"".join(p.encode() + b"\0" for p in parts)

def main():
    path, n, go = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    wait = float(sys.argv[4]) if len(sys.argv) > 4 else 120
    conns = []
    t0 = time.time()
    try:
        for i in range(n):
            c = Conn(path)
            c.negotiate()
            c.step(b"C", b"held%d.example\x004" % i + struct.pack(">H", 25) + b"192.0.2.1\0")
            c.step(b"H", z("held%d.example" % i))
            conns.append(c)
    except (OSError, ValueError) as e:
        print("FAIL holding connection %d of %d: %s" % (len(conns) + 1, n, e), flush=True)
        return 1
    print("held %d (in %.1f s)" % (len(conns), time.time() - t0), flush=True)
    deadline = time.time() + wait
    while not os.path.exists(go) and time.time() < deadline:
        time.sleep(0.1)
    t1 = time.time()
    answered = errors = 0
    first_error = ""
    for i, c in enumerate(conns):
        try:
            c.step(b"M", z("<held%d@example.com>" % i))
            c.step(b"R", z("<rcpt@example.org>"))
            c.step(b"L", z("Subject", "held connection %d" % i))
            c.step(b"N", b"")
            c.step(b"B", b"body of message %d\r\n" % i)
            c.s.sendall(frame(b"E"))
            mods = []
            while True:
                cmd, data = c.read_frame()
                if cmd in (b"h", b"i", b"m", b"e", b"+", b"-", b"2", b"b", b"q", b"p"):
                    mods.append(cmd)
                    continue
                break
            if cmd != b"c" or b"h" not in mods:
                raise ValueError("eom: reply %r, modifications %r (want an added header, then continue)" % (cmd, mods))
            answered += 1
            c.s.sendall(frame(b"Q"))
        except (OSError, ValueError) as e:
            errors += 1
            if not first_error:
                first_error = "connection %d: %s" % (i, e)
        finally:
            c.s.close()
    print("held %d, answered %d, protocol errors %d, elapsed %.1f s%s" % (
        n, answered, errors, time.time() - t1, ("; first: " + first_error) if first_error else ""), flush=True)
    return 0 if answered == n and errors == 0 else 1

sys.exit(main())
