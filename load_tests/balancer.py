"""A small TCP load balancer for trying several app processes on one machine.

Round robin over the backends, per connection (HTTP keep-alive connections stay on the
backend they were given; nothing needs sticky sessions, docs/scaling.md). A backend that
refuses a connection is skipped for that connection. It listens on 127.0.0.1 only.

    python -m load_tests.balancer 21750 127.0.0.1:21751 127.0.0.1:21752

`make load-distributed` uses haproxy when it is installed (`apt-get install haproxy`,
config from ``haproxy_config``) and this otherwise.
"""

import asyncio
import contextlib
import itertools
import sys


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


class Balancer:
    def __init__(self, backends: list[tuple[str, int]]) -> None:
        self.backends = backends
        self._next = itertools.cycle(range(len(backends)))
        self.connections = [0] * len(backends)

    async def handle(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        for _ in range(len(self.backends)):
            index = next(self._next)
            host, port = self.backends[index]
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
            except OSError:
                continue
            self.connections[index] += 1
            await asyncio.gather(
                _pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer)
            )
            return
        client_writer.close()

    async def serve(self, port: int) -> None:
        server = await asyncio.start_server(self.handle, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()


def haproxy_config(port: int, backends: list[tuple[str, int]]) -> str:
    """The same balancing in haproxy: round robin, HTTP keep-alive, no buffering of the
    results stream (``option http-server-close`` is not set: SSE stays open)."""
    servers = "\n".join(
        f"    server app{i} {host}:{p} check inter 2s" for i, (host, p) in enumerate(backends)
    )
    return f"""global
    maxconn 4000
defaults
    mode http
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    option http-keep-alive
frontend events
    bind 127.0.0.1:{port}
    default_backend apps
backend apps
    balance roundrobin
{servers}
"""


def main(argv: list[str]) -> None:
    port = int(argv[0])
    backends = [(b.rsplit(":", 1)[0], int(b.rsplit(":", 1)[1])) for b in argv[1:]]
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(Balancer(backends).serve(port))


if __name__ == "__main__":
    main(sys.argv[1:])
