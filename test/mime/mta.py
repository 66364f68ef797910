#!/usr/bin/env python3
"""The MTA side of one message, for tests of body and header rewriting:
plays MAIL.eml to a milter (milter protocol 6, all actions offered), then
applies what the milter asked at eom the way an MTA does (add/insert/change
headers, replace the body) and writes the message as it would be delivered.

usage: mta.py SPEC MAIL.eml OUT.eml [ACTIONS]
SPEC: unix:/path or inet:PORT@HOST; ACTIONS: the actions offered, hex (default 1ff: all)
Prints the verdict letter ("c", "a", "r", "t", "d", or "closed"), then one
line per modification ("h Name", "m Name 1", "b 1234"). Exit 0 if the
milter answered, 3 if it hung up or spoke garbage."""
import socket, struct, sys

NO_STEPS = {"C": 0x1, "H": 0x2, "M": 0x4, "R": 0x8, "B": 0x10, "L": 0x20, "N": 0x40, "T": 0x200}
NO_REPLY = {"C": 0x1000, "H": 0x2000, "M": 0x4000, "R": 0x8000, "T": 0x10000, "N": 0x40000, "B": 0x80000, "L": 0x80}
FINAL = b"acrtdy"


def connect(spec):
    kind, _, rest = spec.partition(":")
    if kind in ("unix", "local"):
        s = socket.socket(socket.AF_UNIX)
        s.connect(rest)
    else:
        port, _, host = rest.partition("@")
        s = socket.create_connection((host or "127.0.0.1", int(port)))
    s.settimeout(30)
    return s


def send(s, cmd, data=b""):
    s.sendall(struct.pack(">I", len(data) + 1) + cmd.encode() + data)


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        got = s.recv(n - len(out))
        if not got:
            raise EOFError
        out += got
    return out


def recv(s):
    n = struct.unpack(">I", recv_exact(s, 4))[0]
    data = recv_exact(s, n)
    return data[:1], data[1:]


def split_message(raw):
    """(headers as [name, value] with CRLF folding kept, body with CRLF line ends)."""
    raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    head, sep, body = raw.partition(b"\r\n\r\n")
    headers = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and headers:
            headers[-1][1] += b"\r\n" + line
        elif b":" in line:
            name, _, value = line.partition(b":")
            headers.append([name, value[1:] if value.startswith(b" ") else value])
    return headers, body


def step(s, proto, cmd, data, mods):
    """Sends one step unless negotiated away; reads its reply unless told not to."""
    if proto & NO_STEPS.get(cmd, 0):
        return None
    send(s, cmd, data)
    if proto & NO_REPLY.get(cmd, 0):
        return None
    return read_reply(s, mods)


def read_reply(s, mods):
    while True:
        cmd, data = recv(s)
        if cmd in FINAL or cmd == b"s":
            return cmd
        if cmd == b"p":
            continue
        mods.append((cmd, data))


def apply_mods(headers, body, mods):
    new_body = None
    for cmd, data in mods:
        if cmd == b"b":
            new_body = (new_body or b"") + data
        elif cmd == b"h":
            name, value = data.split(b"\0")[:2]
            headers.append([name, value])
        elif cmd in (b"m", b"i"):
            index = struct.unpack(">I", data[:4])[0]
            name, value = data[4:].split(b"\0")[:2]
            if cmd == b"i":
                headers.insert(index, [name, value])
                continue
            same = [h for h in headers if h[0].lower() == name.lower()]
            if index < 1 or index > len(same):
                if value:
                    headers.append([name, value])
            elif value:
                same[index - 1][1] = value
            else:
                headers.remove(same[index - 1])
    return headers, body if new_body is None else new_body


def describe(cmd, data):
    if cmd == b"b":
        return "b %d" % len(data)
    if cmd in (b"m", b"i"):
        return "%s %s %d" % (cmd.decode(), data[4:].split(b"\0")[0].decode(), struct.unpack(">I", data[:4])[0])
    return "%s %s" % (cmd.decode(), data.split(b"\0")[0].decode(errors="replace"))


def main():
    spec, mail, out = sys.argv[1:4]
    actions = int(sys.argv[4], 16) if len(sys.argv) > 4 else 0x1FF
    headers, body = split_message(open(mail, "rb").read())
    s = connect(spec)
    mods = []
    try:
        send(s, "O", struct.pack(">III", 6, actions, 0x1FFFFF))
        cmd, data = recv(s)
        if cmd != b"O":
            raise EOFError
        proto = struct.unpack(">III", data[:12])[2]
        step(s, proto, "C", b"localhost\0" + b"4" + struct.pack(">H", 40000) + b"127.0.0.1\0", mods)
        step(s, proto, "H", b"localhost\0", mods)
        step(s, proto, "M", b"<a@example.com>\0", mods)
        step(s, proto, "R", b"<b@example.com>\0", mods)
        step(s, proto, "T", b"", mods)
        for name, value in headers:
            step(s, proto, "L", name + b"\0" + value + b"\0", mods)
        step(s, proto, "N", b"", mods)
        for i in range(0, len(body), 65535):
            step(s, proto, "B", body[i:i + 65535], mods)
        send(s, "E")
        verdict = read_reply(s, mods)
        send(s, "Q")
    except (EOFError, OSError, struct.error):
        print("closed")
        return 3
    print(verdict.decode())
    for cmd, data in mods:
        print(describe(cmd, data))
    headers, body = apply_mods(headers, body, mods)
    with open(out, "wb") as f:
        for name, value in headers:
            f.write(name + b":" + (b"" if value[:1] in (b" ", b"\t") else b" ") + value + b"\r\n")
        f.write(b"\r\n" + body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
