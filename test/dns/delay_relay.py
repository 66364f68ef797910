#!/usr/bin/env python3
"""A UDP relay that holds every DNS answer for DELAY_MS before passing it on,
so that parallel and serial queries differ in time (the test server, unbound,
answers local data at once). usage: delay_relay.py UPSTREAM_PORT DELAY_MS;
prints the port it listens on (127.0.0.1), then relays until killed."""
import socket, sys, threading, time

upstream = ("127.0.0.1", int(sys.argv[1]))
delay = int(sys.argv[2]) / 1000.0
front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
front.bind(("127.0.0.1", 0))
print(front.getsockname()[1], flush=True)


def relay(query, client):
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back.settimeout(5)
    try:
        back.sendto(query, upstream)
        answer, _ = back.recvfrom(65535)
        time.sleep(delay)
        front.sendto(answer, client)
    except OSError:
        pass
    finally:
        back.close()


while True:
    data, addr = front.recvfrom(65535)
    threading.Thread(target=relay, args=(data, addr), daemon=True).start()
