"""Serves `app.py` with uvicorn (uvloop, httptools, one worker process) the way the benchmark
driver starts every server: `--port P --workers N`, and `listening on http://ADDR` as the
first line once it accepts connections."""

import argparse
import socket
import sys

import uvicorn

from app import app


class Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, sock: socket.socket) -> None:
        super().__init__(config)
        self.sock = sock

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        host, port = self.sock.getsockname()[:2]
        print(f"listening on http://{host}:{port}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if args.workers != 1:
        sys.exit("serve.py: one worker process only (--workers 1)")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        # No line per request: the Rust servers log nothing either.
        access_log=False,
        log_level="warning",
    )
    Server(config, sock).run(sockets=[sock])


if __name__ == "__main__":
    main()
