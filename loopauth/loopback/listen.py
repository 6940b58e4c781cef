"""Binding the loopback callback socket(s), with the standard library only.

Kept apart from the aiohttp server (callback.py) so that ``loopauth login``
can bind and send the browser to the start page before aiohttp is imported
(about a quarter of a second): the kernel holds the browser's connection in
the listen backlog until the server takes over these same sockets. Binding
first and keeping the socket is also RFC 8252 §8.3's rule: never probe a
port and bind it again later.
"""

from __future__ import annotations

import errno
import socket

from ..errors import LocalError, PortInUse

BACKLOG = 128


class Listeners:
    """Listening, non-blocking sockets on the loopback address(es) of ``host``, all on one port."""

    def __init__(self, host: str, port: int) -> None:
        # ``localhost`` means both loopback families, so the browser's resolver cannot miss us.
        self.wanted = ["127.0.0.1", "::1"] if host.lower() == "localhost" else [host.strip("[]")]
        self.port = port
        self.sockets: list[socket.socket] = []
        self.hosts: list[str] = []
        """The addresses actually listened on (``localhost`` gives 127.0.0.1 and, where there is IPv6, ::1)."""

    def bind(self) -> Listeners:
        """Bind and listen; PortInUse (busy or privileged port) or LocalError, with nothing left open."""
        for host in self.wanted:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            try:
                sock = socket.socket(family, socket.SOCK_STREAM)
            except OSError:
                if len(self.wanted) > 1:
                    continue  # no IPv6 on this machine: 127.0.0.1 alone will do
                raise
            try:
                # SO_REUSEADDR on POSIX only lets us reuse a port in TIME_WAIT, never one somebody listens on.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind((host, self.port))
                sock.listen(BACKLOG)
                sock.setblocking(False)
            except OSError as exc:
                sock.close()
                if exc.errno == errno.EADDRNOTAVAIL and len(self.wanted) > 1:
                    continue
                self.close()
                busy = port_unavailable(exc, "callback port", host, self.port)
                if busy is not None:
                    raise busy from exc
                raise LocalError(f"cannot listen on {host}:{self.port}: {exc.strerror or exc}") from exc
            self.port = sock.getsockname()[1]
            self.sockets.append(sock)
            self.hosts.append(host)
        if not self.sockets:
            raise LocalError(f"cannot listen on any of {', '.join(self.wanted)}")
        return self

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()
        self.sockets.clear()


def port_unavailable(exc: OSError, what: str, host: str, port: int) -> PortInUse | None:
    """The one line for a port that is taken or privileged (``what``: whose port it is), else None."""
    if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
        return None
    why = "is already in use" if exc.errno == errno.EADDRINUSE else "needs privileges to bind"
    return PortInUse(f"{what} {port} on {host} {why}; free it or choose another port (0 picks a free one)", port=port)
