"""WaitConditionHandle URLs: a small HTTP server on 127.0.0.1 that takes the signals.

CloudFormation's handle is a presigned S3 URL to which anyone holding it PUTs
`{"Status": "SUCCESS"|"FAILURE", "Reason", "UniqueId", "Data"}`; a later signal with the same
UniqueId replaces the earlier one. Locally the URL is `http://127.0.0.1:<port>/waitcondition/<token>`.
The server tries to keep the port of the previous run (stored under the state directory) so handle
URLs saved in a deployed stack stay valid across CLI runs.
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

STATUSES = ("SUCCESS", "FAILURE")


@dataclass
class Signal:
    status: str
    reason: str
    unique_id: str
    data: str


class SignalServer:
    """Thread-safe signal store behind an HTTP server (started on first use)."""

    def __init__(self, port_file: Path | None = None) -> None:
        self.port_file = port_file
        self._lock = threading.Lock()
        self._signals: dict[str, dict[str, Signal]] = {}
        self._handles: set[str] = set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.received = 0

    # --- lifecycle -----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        self.start()
        assert self._server is not None
        return int(self._server.server_address[1])

    def start(self) -> None:
        if self._server is not None:
            return
        store = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                store._on_put(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        preferred = 0
        if self.port_file is not None and self.port_file.exists():
            with contextlib.suppress(ValueError):
                preferred = int(self.port_file.read_text().strip())
        try:
            server = ThreadingHTTPServer(("127.0.0.1", preferred), Handler)
        except OSError:
            server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="waitcondition-server", daemon=True)
        self._thread.start()
        if self.port_file is not None:
            self.port_file.parent.mkdir(parents=True, exist_ok=True)
            self.port_file.write_text(str(server.server_address[1]))

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- handles -------------------------------------------------------------------------------
    def url(self, token: str) -> str:
        return f"http://127.0.0.1:{self.port}/waitcondition/{token}"

    def open_handle(self, token: str, signals: dict[str, Any] | None = None) -> str:
        """Register a handle (keeping signals already received, e.g. restored from state)."""
        with self._lock:
            self._handles.add(token)
            current = self._signals.setdefault(token, {})
            for uid, raw in (signals or {}).items():
                current.setdefault(uid, Signal(**raw))
        return self.url(token)

    def close_handle(self, token: str) -> None:
        with self._lock:
            self._handles.discard(token)
            self._signals.pop(token, None)

    def signals(self, token: str) -> dict[str, Signal]:
        with self._lock:
            return dict(self._signals.get(token, {}))

    def export(self, token: str) -> dict[str, Any]:
        return {uid: vars(sig) for uid, sig in self.signals(token).items()}

    @staticmethod
    def token_of(url: str) -> str:
        return url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]

    # --- HTTP ----------------------------------------------------------------------------------
    def _on_put(self, request: BaseHTTPRequestHandler) -> None:
        token = self.token_of(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        try:
            payload = json.loads(body or b"{}")
            status = payload["Status"]
            if status not in STATUSES:
                raise ValueError(f"Status must be SUCCESS or FAILURE, got {status!r}")
            signal = Signal(
                status=status,
                reason=str(payload.get("Reason", "")),
                unique_id=str(payload.get("UniqueId", "")),
                data=str(payload.get("Data", "")),
            )
        except (ValueError, KeyError, TypeError) as error:
            self._reply(request, 400, f"bad signal: {error}")
            return
        with self._lock:
            if token not in self._handles:
                known = False
            else:
                known = True
                self._signals.setdefault(token, {})[signal.unique_id] = signal
                self.received += 1
        if known:
            self._reply(request, 200, "")
        else:
            self._reply(request, 404, "NoSuchKey: the wait condition handle does not exist")

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, code: int, text: str) -> None:
        data = text.encode()
        request.send_response(code)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
