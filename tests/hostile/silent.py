"""A WebSocket client that never reads: a plain blocking socket with a small receive buffer
that completes the handshake, may send frames, and reads nothing until the test says so.

A library client would not do: it keeps reading into its own memory whatever the server
sends, so the server never sees a client that stopped reading.
"""

from __future__ import annotations

import base64
import os
import socket
import struct
import time
from dataclasses import dataclass

from tests.live_server import WAIT, LiveServer

OPCODE_TEXT = 0x1
OPCODE_CLOSE = 0x8
FIN = 0x80
MASKED = 0x80
# The masking key is the client's to choose; zeros leave the payload as it is.
ZERO_MASK = b"\x00\x00\x00\x00"


@dataclass
class SilentClient:
    sock: socket.socket

    @classmethod
    def open(cls, server: LiveServer, cookie: str, *, receive_buffer: int) -> SilentClient:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.settimeout(WAIT)
        sock.connect((server.host, server.port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /ws/ HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: {server.url}\r\nCookie: {cookie}\r\n\r\n"
        )
        sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(1)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            head += chunk
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(head.decode(errors="replace"))
        return cls(sock)

    def send_text(self, text: str) -> None:
        self.sock.sendall(self._frame(text))

    def send_at_once(self, texts: list[str]) -> None:
        """Several frames in one write: the server reads them all before it acts on one."""
        self.sock.sendall(b"".join(self._frame(text) for text in texts))

    @staticmethod
    def _frame(text: str) -> bytes:
        payload = text.encode()
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", FIN | OPCODE_TEXT, MASKED | size)
        elif size < 2**16:
            header = struct.pack("!BBH", FIN | OPCODE_TEXT, MASKED | 126, size)
        else:
            header = struct.pack("!BBQ", FIN | OPCODE_TEXT, MASKED | 127, size)
        return header + ZERO_MASK + payload

    def send_paced(self, text: str, *, per_second: float, seconds: float) -> int:
        """Send `text` again and again at `per_second` for `seconds`; how many went out."""
        sent = 0
        start = time.monotonic()
        while time.monotonic() < start + seconds:
            self.send_text(text)
            sent += 1
            time.sleep(max(0.0, start + sent / per_second - time.monotonic()))
        return sent

    def _exactly(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError("closed without a close frame")
            data += chunk
        return data

    def read_until_close(self) -> tuple[int | None, int]:
        """Read at last: (the close code, the frames that came before it); None if none."""
        frames = 0
        try:
            while True:
                first, second = self._exactly(2)
                size = second & 0x7F
                if size == 126:
                    (size,) = struct.unpack("!H", self._exactly(2))
                elif size == 127:
                    (size,) = struct.unpack("!Q", self._exactly(8))
                payload = self._exactly(size)
                if first & 0x0F == OPCODE_CLOSE:
                    return (struct.unpack("!H", payload[:2])[0] if size >= 2 else None), frames
                frames += 1
        except (TimeoutError, ConnectionError):
            return None, frames

    def close(self) -> None:
        self.sock.close()
