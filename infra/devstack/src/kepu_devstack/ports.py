"""Free-port selection so that two stacks on one machine never collide.

:func:`free_port` binds port 0 and closes: the port is free *now*, and anyone may take it
before the child that was handed it binds. :class:`PortHold` closes that gap for the
launcher's own children: it keeps the port bound (not listening, ``SO_REUSEADDR``) until the
child listens. Another bind to it (any other ``free_port``, an outgoing connection's local
port) is refused meanwhile, while the child, whose server sets ``SO_REUSEADDR`` as gRPC,
uvicorn and ``http.server`` do, binds it beside the hold.
"""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PortHold:
    """A port kept for a child until it listens there (``port=0``: a free one is chosen).

    Raises ``OSError`` (``EADDRINUSE``) when something already listens on ``port``."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self.host = host
        self._sock: socket.socket | None = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._sock.bind((host, port))
        except OSError:
            self._sock.close()
            raise
        self.port = int(self._sock.getsockname()[1])

    @property
    def held(self) -> bool:
        return self._sock is not None

    def release(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def release_if_listening(self) -> bool:
        """Let the port go once a server accepts connections on it; True when released."""
        if self._sock is not None and port_in_use(self.port, self.host):
            self.release()
        return self._sock is None


def wait_port(port: int, timeout: float = 30.0, host: str = "127.0.0.1") -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def die_with_parent() -> None:
    """``preexec_fn`` (Linux): the child gets SIGTERM if the launcher dies without cleaning up."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass
