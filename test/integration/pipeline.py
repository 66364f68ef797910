#!/usr/bin/env python3
"""Sends milter commands the way pmilter's read-ahead (src/milter/mta_read.c)
must cope with: many commands in one write, one byte per write, a command cut
short by a hang-up, a QUIT_NC with the next connection's negotiation in the
same write, a 64 KiB body chunk between small commands.

usage: pipeline.py SPEC MODE [HEADERS]
MODE:  burst     after negotiation, a whole transaction in one write
       bytewise  the same transaction one byte per write
       quitnc    two connections on one socket: QUIT_NC and the whole second
                 transaction in one write
       bigbody   a 65535-byte body chunk between small commands, one write
       cut       a macro frame and half a MAIL FROM, then hang up
       slowread  a transaction from <big@example.com>, whose replies (a
                 replaced body of megabytes) are read only after 1 s; prints
                 the replies with the replaced body's size
       qncburst  two transactions, the QUIT_NC between them and the final
                 QUIT, all in one write (QUIT_NC found in the buffer mid-session)
       stall     connect, HELO and the first 7 bytes of MAIL FROM in one write,
                 then nothing: prints the replies, then "closed after N s"
                 when the milter hangs up (its `timeout` must still apply)
Prints each reply's command letter (and an added header's name), one per
line, in the order they came."""
import socket, struct, sys, time

sys.path.insert(0, __import__("os").path.dirname(__file__))
from rawclient import connect, frame, read_frame

def z(*parts):
    return b"".join(p.encode() + b"\0" for p in parts)

def negotiate(s, out):
    # version 6, every action, every step, no "no reply" flags
    s.sendall(frame(b"O", struct.pack(">III", 6, 0x1ff, 0)))
    cmd, data = read_frame(s)
    out.append(cmd.decode())
    return struct.unpack(">III", data[:12])[2]

def transaction(headers, body=b"hello\r\n", sender="sender@example.com"):
    """Frames of one connection's transaction after negotiation, and how many replies they earn."""
    f = [frame(b"C", b"client.example\0" + b"4" + struct.pack(">H", 2525) + b"192.0.2.7\0"),
         frame(b"H", z("client.example")),
         frame(b"D", b"M" + z("{mail_addr}", sender)),
         frame(b"M", z("<%s>" % sender)),
         frame(b"R", z("<rcpt@example.com>")),
         frame(b"T")]
    f += [frame(b"L", z("X-Test-%d" % i, "value %d" % i)) for i in range(headers)]
    f += [frame(b"N"), frame(b"B", body), frame(b"E")]
    return b"".join(f), 5 + headers + 3  # connect helo mail rcpt data, headers, eoh body eom (macros earn none)

def read_replies(s, n, out):
    """Reads until n final replies came; modifications are printed as they come
    (replaced body chunks as one line with their total size)."""
    body = 0
    while n > 0:
        cmd, data = read_frame(s)
        if cmd is None:
            out.append("closed"); return
        if cmd == b"h":
            out.append("h " + data.split(b"\0")[0].decode())
            continue
        if cmd == b"b":
            body += len(data)
            continue
        if body:
            out.append("b %d" % body); body = 0
        out.append(cmd.decode())
        n -= 1

def main():
    spec, mode = sys.argv[1], sys.argv[2]
    headers = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    out = []
    s = connect(spec); s.settimeout(20)
    if mode == "cut":
        s.sendall(frame(b"D", b"M" + z("{mail_addr}", "x@example.com")) + frame(b"M", z("<x@example.com>"))[:7])
        time.sleep(0.2)
        s.close(); print("cut"); return
    negotiate(s, out)
    if mode == "stall":
        data, n = transaction(0)
        mail = frame(b"M", z("<sender@example.com>"))
        s.sendall(data[:data.index(mail) + 7])  # the MAIL frame's header and 2 bytes
        s.settimeout(60)
        t = time.time()
        read_replies(s, 3, out)  # connect, helo; then the hang-up
        out[-1:] = ["closed after %d s" % round(time.time() - t)] if out[-1] == "closed" else out[-1:]
        print("\n".join(out)); return
    if mode == "qncburst":
        a, n1 = transaction(headers)
        b, n2 = transaction(headers + 1)
        s.sendall(a + frame(b"K") + b + frame(b"Q"))
        read_replies(s, n1 + n2, out)
        s.close(); print("\n".join(out)); return
    if mode == "burst":
        data, n = transaction(headers)
        s.sendall(data)
        read_replies(s, n, out)
    elif mode == "bytewise":
        data, n = transaction(headers)
        for i in range(len(data)):
            s.send(data[i:i + 1])
            if i % 7 == 0:
                time.sleep(0.0005)  # let the milter wake up between bytes now and then
        read_replies(s, n, out)
    elif mode == "quitnc":
        data, n = transaction(headers)
        s.sendall(data)
        read_replies(s, n, out)
        # QUIT_NC (no reply), then the next connection's whole transaction, in the same write
        data, n = transaction(headers)
        s.sendall(frame(b"K") + data)
        read_replies(s, n, out)
    elif mode == "slowread":
        data, n = transaction(headers, sender="big@example.com")
        s.sendall(data)
        time.sleep(1)  # the milter's replies fill the socket buffer meanwhile
        read_replies(s, n, out)
    elif mode == "bigbody":
        data, n = transaction(headers, body=bytes((i * 7) % 251 + 1 for i in range(65535)))
        s.sendall(data)
        read_replies(s, n, out)
    s.sendall(frame(b"Q"))
    s.close()
    print("\n".join(out))

if __name__ == "__main__":
    main()
