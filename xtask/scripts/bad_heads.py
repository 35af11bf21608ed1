"""How fast request lines that can never begin an HTTP/1.x head are answered.

Usage: python3 bad_heads.py HOST PORT [TRIES]

Sends each line on a new connection (TRIES times, 20 by default) and reads until the server
closes; prints the status line and the median and slowest time from the send to the close.
"""

import socket
import sys
import time

host, port = sys.argv[1], int(sys.argv[2])
tries = int(sys.argv[3]) if len(sys.argv) > 3 else 20
for line in [b"GET /json\r\n", b"GET /json HTTP/9\r\n", b"GE\x01T / HTTP/1.1"]:
    times, answer = [], b""
    for _ in range(tries):
        sock = socket.create_connection((host, port))
        started = time.perf_counter()
        sock.sendall(line)
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
        times.append((time.perf_counter() - started) * 1000)
        sock.close()
    times.sort()
    status = answer.split(b"\r\n")[0].decode()
    print(f"{line!r}: {status}, median {times[len(times) // 2]:.2f} ms, slowest {times[-1]:.2f} ms")
