#!/usr/bin/env python3
"""A tiny wire-level milter client for the cases miltertest cannot play:
a unix-socket client family ('L'), inet6 listeners, raw and broken frames.

usage: rawclient.py SPEC SCRIPT   (or import it: frame, reply, letter)
SPEC:   unix:/path | inet:PORT@HOST | inet6:PORT@HOST
SCRIPT: steps separated by ';', each one of
  neg              option negotiation offering everything (version 6)
  neg:HEX          the same, offering only the protocol steps in HEX
  conn4:HOST:IP    connect info, family '4' (conn6 for '6', connL:HOST:PATH for 'L')
  helo:NAME  mail:ADDR  rcpt:ADDR  hdr:NAME:VALUE  eoh  body:TEXT  eom  abort  quit
  raw:HEX          send these bytes as they are (no framing)
  close            hang up now
Prints each reply command letter received (and eom's actions) one per line.
"""
import socket, struct, sys

def connect(spec):
    kind, _, rest = spec.partition(":")
    if kind in ("unix", "local"):
        s = socket.socket(socket.AF_UNIX); s.connect(rest); return s
    port, _, host = rest.partition("@")
    fam = socket.AF_INET6 if kind == "inet6" else socket.AF_INET
    s = socket.socket(fam); s.connect((host.strip("[]") or "127.0.0.1", int(port))); return s

def frame(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data

def read_frame(s):
    hdr = b""
    while len(hdr) < 4:
        got = s.recv(4 - len(hdr))
        if not got: return None, None
        hdr += got
    n = struct.unpack(">I", hdr)[0]
    body = b""
    while len(body) < n:
        got = s.recv(n - len(body))
        if not got: return None, None
        body += got
    return body[:1], body[1:]

def reply(s):
    """The next reply frame, command byte first; b"" if the milter hung up."""
    cmd, data = read_frame(s)
    return b"" if cmd is None else cmd + data

def letter(s):
    """The next reply's command letter ("c", "t", ...), or "closed"."""
    return reply(s)[:1].decode() or "closed"

def expect_reply(s, final=(b"c", b"r", b"t", b"a", b"d", b"y", b"s")):
    while True:
        cmd, data = read_frame(s)
        if cmd is None:
            print("closed"); return False
        print(cmd.decode(), data.split(b"\0")[0].decode(errors="replace") if data else "")
        if cmd in final or cmd == b"O": return True

# Protocol flags per step: (switched off, sent without a reply), from mfdef.h.
FLAGS = {"conn4": (0x1, 0x1000), "conn6": (0x1, 0x1000), "connL": (0x1, 0x1000), "helo": (0x2, 0x2000),
         "mail": (0x4, 0x4000), "rcpt": (0x8, 0x8000), "hdr": (0x20, 0x80), "eoh": (0x40, 0x40000),
         "body": (0x10, 0x80000)}

def main():
    global expect_reply
    s = connect(sys.argv[1]); s.settimeout(10)
    negotiated = 0
    wait_reply = expect_reply
    for step in sys.argv[2].split(";"):
        name, _, arg = step.partition(":")
        off, no_reply = FLAGS.get(name, (0, 0))
        if negotiated & off:
            print(name, "not sent"); continue
        expect_reply = (lambda s: print(name, "no reply")) if negotiated & no_reply else wait_reply
        z = lambda *parts: b"".join(p.encode() + b"\0" for p in parts)
        if name == "neg":
            steps = int(arg, 16) if arg else 0x1fffff
            s.sendall(frame(b"O", struct.pack(">III", 6, 0x1ff, steps)))
            cmd, data = read_frame(s)
            print(cmd.decode(), "")
            negotiated = struct.unpack(">III", data[:12])[2]
        elif name in ("conn4", "conn6", "connL"):
            host, _, addr = arg.partition(":")
            fam = {"conn4": b"4", "conn6": b"6", "connL": b"L"}[name]
            s.sendall(frame(b"C", host.encode() + b"\0" + fam + struct.pack(">H", 0) + addr.encode() + b"\0")); expect_reply(s)
        elif name == "helo": s.sendall(frame(b"H", z(arg))); expect_reply(s)
        elif name == "mail": s.sendall(frame(b"M", z(arg))); expect_reply(s)
        elif name == "rcpt": s.sendall(frame(b"R", z(arg))); expect_reply(s)
        elif name == "hdr":
            k, _, v = arg.partition(":"); s.sendall(frame(b"L", z(k, v))); expect_reply(s)
        elif name == "eoh": s.sendall(frame(b"N")); expect_reply(s)
        elif name == "body": s.sendall(frame(b"B", arg.encode())); expect_reply(s)
        elif name == "eom": s.sendall(frame(b"E")); expect_reply(s)
        elif name == "abort": s.sendall(frame(b"A"))
        elif name == "quit": s.sendall(frame(b"Q")); s.close(); return
        elif name == "raw": s.sendall(bytes.fromhex(arg))
        elif name == "close": s.close(); return
    s.close()

if __name__ == "__main__":
    main()
