"""A TCP relay that keeps every byte the server sent back, to see exactly what a client read.

Put between a real client and the model-API recorder, it shows the reply bodies the client got
(`bodies()`: HTTP/1.1 responses parsed back from the raw bytes, by Content-Length or chunked),
to compare with what the stand-in provider sent.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class Tap:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.streams: list[bytearray] = []  # server → client bytes, one per connection
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            seen = bytearray()
            with self._lock:
                self.streams.append(seen)
            threading.Thread(target=self._pipe, args=(client, server, None), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, seen), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, seen: bytearray | None) -> None:
        try:
            while data := source.recv(65536):
                if seen is not None:
                    seen += data
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def bodies(self) -> list[bytes]:
        """Every response body the clients received, in order per connection."""
        with self._lock:
            streams = [bytes(s) for s in self.streams]
        found: list[bytes] = []
        for stream in streams:
            found.extend(_responses(stream))
        return found


def _responses(stream: bytes) -> list[bytes]:
    bodies: list[bytes] = []
    at = 0
    while at < len(stream):
        end = stream.find(b"\r\n\r\n", at)
        if end < 0:
            break
        head = stream[at:end].decode("latin-1").lower().split("\r\n")
        fields = dict(line.split(":", 1) for line in head[1:] if ":" in line)
        at = end + 4
        if fields.get("transfer-encoding", "").strip() == "chunked":
            body = bytearray()
            while True:
                line_end = stream.find(b"\r\n", at)
                size = int(stream[at:line_end].split(b";")[0], 16)
                at = line_end + 2
                if size == 0:
                    at = stream.find(b"\r\n", at) + 2
                    break
                body += stream[at : at + size]
                at += size + 2
            bodies.append(bytes(body))
        else:
            length = int(fields.get("content-length", "0").strip() or 0)
            bodies.append(stream[at : at + length])
            at += length
    return bodies
