#!/usr/bin/python3
"""capture.py KIND SOCKET OUT: a unix datagram socket at SOCKET standing in
for /dev/log (KIND syslog) or /run/systemd/journal/socket (KIND journal).
Every datagram becomes one JSON line in OUT: syslog -> {"pri": N, "text": "..."}
(the text after "<N>"); journal -> the entry's fields, parsed from the native
journal protocol (KEY=value lines, or KEY\\n + 64-bit little-endian length +
bytes for values holding newlines). Runs until killed; OUT is flushed per line."""
import json
import os
import re
import socket
import struct
import sys


def journal_fields(data):
    fields, i = {}, 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            key, value = line.split(b"=", 1)
            i = nl + 1
        else:
            key = line
            (size,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            value = data[nl + 9:nl + 9 + size]
            i = nl + 9 + size + 1
        fields[key.decode()] = value.decode("utf-8", "replace")
    return fields


def syslog_entry(data):
    m = re.match(rb"<(\d+)>(.*)", data, re.S)
    return {"pri": int(m.group(1)), "text": m.group(2).decode("utf-8", "replace")}


def main():
    kind, path, out_path = sys.argv[1:4]
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.chmod(path, 0o666)
    with open(out_path, "a") as out:
        while True:
            data = sock.recv(1 << 20)
            entry = journal_fields(data) if kind == "journal" else syslog_entry(data)
            out.write(json.dumps(entry) + "\n")
            out.flush()


main()
