"""`pz serve`: S3, IAM, STS (and the rest of moto) plus the local Personalize on
127.0.0.1, for the AWS CLI and SDKs (`--endpoint-url http://127.0.0.1:4599`).

One WSGI app in front of moto's DomainDispatcherApplication: a request signed for `personalize`
(control plane, runtime and events all sign with that name; the X-Amz-Target header or the path
tells them apart) goes to the World's Personalize, everything else to moto. The World is loaded at
start and saved on shutdown and every few seconds after a change; its clock is wall time x speed
(speed 1 by default, so that the service's timestamps keep pace with the client's clock), and
`POST /_local/clock/advance` with `{"seconds": N}` moves it forward on purpose (`GET /_local/clock`
reads it). Every response carries exactly one `Date` header (RFC 9110 §5.3 and §6.6.1): the local
Personalize's, from the world's clock, or the web server's for everything else.

IAM as in process: a request signed with a role session's credentials (STS AssumeRole against the
server) is evaluated by local.emulator.gate against that role's policies (and the bucket or key
policy) before moto or the local Personalize answers; a refusal is the service's own (S3: the XML
`AccessDenied`, HTTP 403). Any other key is the administrator's and is not evaluated.
"""

from __future__ import annotations

import io
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from local.emulator import gate, moto_internals
from local.emulator.clock import ScaledClock
from local.emulator.personalize import protocol
from local.emulator.world import DEFAULT_PATH, LostResponse, World, install_bridge, operation_of

StartResponse = Callable[..., Any]
READ_ONLY = ("Describe", "List", "Get")
#: the server's own endpoint for its clock (no AWS service has this path)
CLOCK_PATH = "/_local/clock"


def make_app(world: World, on_change: Callable[[], None] | None = None) -> Callable[..., Iterable[bytes]]:
    """The WSGI app serving `world` (which must be attached: `with world.attached():`)."""
    install_bridge()  # moto's bucket-policy fix applies to the server too
    moto_app = moto_internals.server_app()

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(CLOCK_PATH):
            return _clock(world, environ, start_response, on_change)
        headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items()
                   if key.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        path = environ.get("PATH_INFO", "/")
        found = protocol.identify(environ.get("HTTP_HOST", ""), path, headers)
        if found is None:
            url = f"http://{environ.get('HTTP_HOST', '')}{path}?{environ.get('QUERY_STRING', '')}"
            service, operation = operation_of(url, headers, b"")
            world.stats.count(_service_of(headers) or service, operation if operation != "request"
                              else environ.get("REQUEST_METHOD", "?"))
            denial = _authorize(world, environ, headers)
            if denial is not None:
                world.stats.error(_service_of(headers) or service, operation, "AccessDenied")
                return _answer(start_response, *denial)
            if on_change and environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
                on_change()
            result: Iterable[bytes] = moto_app(environ, start_response)
            return result
        service, operation, region = found
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        try:
            signed = gate.credential(headers)
            status, out_headers, out = world.personalize_request(service, operation, region, body,
                                                                 access_key=signed[0] if signed else None)
        except LostResponse:
            # the operation took effect; the caller sees the connection fail (no response)
            raise ConnectionAbortedError(f"{service} {operation}: injected lost response") from None
        if on_change and not operation.startswith(READ_ONLY):
            on_change()
        return _answer(start_response, status, out_headers, out)

    return app


def _answer(start_response: StartResponse, status: int, headers: dict[str, str],
            body: bytes) -> Iterable[bytes]:
    reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error"}
    start_response(f"{status} {reason.get(status, 'Error')}",
                   [(k, v) for k, v in headers.items()] + [("Content-Length", str(len(body)))])
    return [body]


class _Request:
    """A WSGI request as local.emulator.gate reads one (method, url, body): the body is read only
    when the gate asks for it, and put back for moto."""

    def __init__(self, environ: dict[str, Any]) -> None:
        self._environ = environ
        self.method = environ.get("REQUEST_METHOD", "GET")
        # the path as sent (still percent-encoded), as botocore's request URL holds it in process
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if not raw:
            query = environ.get("QUERY_STRING", "")
            raw = quote(environ.get("PATH_INFO", "/"), safe="/~") + (f"?{query}" if query else "")
        self.url = f"http://{environ.get('HTTP_HOST', '127.0.0.1')}{raw}"

    @property
    def body(self) -> bytes:
        length = int(self._environ.get("CONTENT_LENGTH") or 0)
        data: bytes = self._environ["wsgi.input"].read(length) if length else b""
        self._environ["wsgi.input"] = io.BytesIO(data)
        return data


def _authorize(world: World, environ: dict[str, Any], headers: dict[str, str]) -> gate.Answer | None:
    """IAM on a request for moto (S3, IAM, STS, ...), as in process: a role session's request is
    evaluated against its role's policies (and the bucket or key policy); any other caller is the
    administrator. None when it may go on, else the service's denial."""
    signed = gate.credential(headers)
    caller = world.caller(signed[0]) if signed else None
    if caller is None or signed is None:
        return None
    return gate.check_other(world.iam, caller, _Request(environ), headers, signed[1], signed[2],
                            world.account_id)


def _clock(world: World, environ: dict[str, Any], start_response: StartResponse,
           on_change: Callable[[], None] | None) -> Iterable[bytes]:
    """`GET /_local/clock`: {"now", "speed"}; `POST /_local/clock/advance` {"seconds": N}: move the
    world's clock forward by N seconds (trainings, imports and campaigns progress accordingly)."""
    clock = world.clock
    status, answer = "200 OK", dict[str, Any]()
    if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO") == CLOCK_PATH + "/advance":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            seconds = float(json.loads(environ["wsgi.input"].read(length) or b"{}")["seconds"])
            if seconds < 0 or not hasattr(clock, "advance"):
                raise ValueError(seconds)
            clock.advance(seconds)
            if on_change:
                on_change()
        except (ValueError, KeyError, TypeError) as error:
            answer = {"message": f'expected {{"seconds": N}} with N >= 0 ({error})'}
            status = "400 Bad Request"
    elif environ.get("PATH_INFO") not in (CLOCK_PATH, CLOCK_PATH + "/"):
        status, answer = "404 Not Found", {"message": f"{CLOCK_PATH} or {CLOCK_PATH}/advance"}
    if not answer:
        answer = {"now": clock.now(), "speed": getattr(clock, "speed", None)}
    body = json.dumps(answer).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _request_handler() -> type:
    """werkzeug's request handler, but the `Date` header comes from the app when it sends one:
    http.server's send_response always adds its own, which made two on Personalize answers."""
    from werkzeug.serving import WSGIRequestHandler

    class OneDate(WSGIRequestHandler):
        _dated = True

        def send_response(self, code: int, message: str | None = None) -> None:
            self.log_request(code)
            self.send_response_only(code, message)
            self.send_header("Server", self.version_string())
            self._dated = False

        def send_header(self, keyword: str, value: str) -> None:
            if keyword.lower() == "date":
                if self._dated:
                    return
                self._dated = True
            super().send_header(keyword, value)

        def end_headers(self) -> None:
            if not self._dated:
                super().send_header("Date", self.date_time_string())
                self._dated = True
            super().end_headers()

    return OneDate


def _service_of(headers: dict[str, str]) -> str | None:
    scope = protocol.SCOPE_RE.search(headers.get("authorization", ""))
    return scope.group(2) if scope else None


def serve(port: int = 4599, path: str | Path = DEFAULT_PATH, speed: float = 1.0, fresh: bool = False,
          save_every: float = 5.0, ready: threading.Event | None = None,
          stop: threading.Event | None = None) -> int:
    """Serve until SIGINT/SIGTERM (or `stop`), then save the world to `path`."""
    from werkzeug.serving import make_server

    if fresh or not Path(path).exists():
        world, start = World(), time.time()  # a new server world starts at wall time
    else:
        world = World.load(path)
        start = world.now()
    world.clock = ScaledClock(speed, start=start)
    dirty = threading.Event()
    stop = stop or threading.Event()

    with world.attached():
        server = make_server("127.0.0.1", port, make_app(world, dirty.set), threaded=True,
                             request_handler=_request_handler())
        thread = threading.Thread(target=server.serve_forever, name="local-serve", daemon=True)
        thread.start()

        def request_stop(signum: int, frame: Any) -> None:
            stop.set()

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, request_stop)
            signal.signal(signal.SIGINT, request_stop)
        print(f"local AWS on http://127.0.0.1:{port} (S3, IAM, STS, Personalize, runtime, events); "
              f"world {path}, clock x{speed}", file=sys.stderr, flush=True)
        if ready is not None:
            ready.set()
        try:
            while not stop.wait(save_every):
                if dirty.is_set():
                    dirty.clear()
                    world.save(path)
        finally:
            server.shutdown()
            thread.join(timeout=5)
            world.save(path)
            print(f"saved world to {path}", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(serve())



