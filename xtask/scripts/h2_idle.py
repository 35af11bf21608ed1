"""An idle HTTP/2 connection (prior knowledge) kept alive by the client's PINGs.

Usage: python3 h2_idle.py HOST PORT [PING_EVERY_SECONDS]

Opens the connection, sends one `GET /`, then only PINGs (every 10 s by default), answering the
server's own PINGs. Prints how long the connection stayed open after the request, how many PINGs
were acknowledged, and the last-stream id of the server's GOAWAY (`None` if the server closed
without one).
"""

import socket
import struct
import sys
import time

host, port = sys.argv[1], int(sys.argv[2])
every = float(sys.argv[3]) if len(sys.argv) > 3 else 10.0
sock = socket.create_connection((host, port))


def frame(kind, flags, stream, payload=b""):
    head = struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream)
    sock.sendall(head + payload)


buffered = b""


def read_frames(timeout):
    """The frames that arrive within `timeout`; `None` once the server has closed."""
    global buffered
    sock.settimeout(timeout)
    try:
        data = sock.recv(65536)
        if not data:
            return None
        buffered += data
    except socket.timeout:
        pass
    frames = []
    while len(buffered) >= 9:
        length = int.from_bytes(buffered[:3], "big")
        if len(buffered) < 9 + length:
            break
        kind, flags, payload = buffered[3], buffered[4], buffered[9 : 9 + length]
        buffered = buffered[9 + length :]
        if kind == 6 and not flags & 1:
            frame(6, 1, 0, payload)  # the server's PING, acknowledged
        frames.append((kind, flags, payload))
    return frames


sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
frame(4, 0, 0)  # SETTINGS
frame(1, 5, 1, bytes([0x82, 0x86, 0x84]))  # HEADERS: GET / (HPACK static table), END_STREAM
start = last_ping = time.monotonic()
goaway, acks = None, 0
while True:
    frames = read_frames(1.0)
    if frames is None:
        break
    for kind, flags, payload in frames:
        if kind == 6 and flags & 1:
            acks += 1
        if kind == 7:
            goaway = int.from_bytes(payload[:4], "big") & 0x7FFFFFFF
    if goaway is None and time.monotonic() - last_ping >= every:
        frame(6, 0, 0, b"portico!")
        last_ping = time.monotonic()
print(f"open {time.monotonic() - start:.1f} s after the request, "
      f"PING ACKs {acks}, GOAWAY last-stream-id {goaway}")
