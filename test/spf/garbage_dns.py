#!/usr/bin/python3
"""A DNS "server" that answers every query with its ID followed by random
bytes: a broken peer for test/spf/run.sh. Prints the 127.0.0.1 UDP port it
listens on, then answers until killed."""
import os
import socket

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
while True:
    query, client = s.recvfrom(65535)
    s.sendto(query[:2] + os.urandom(40), client)
