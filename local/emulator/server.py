"""`pz serve`: S3, IAM, STS (and the rest of moto) plus the local Personalize on
127.0.0.1, for the AWS CLI and SDKs (`--endpoint-url http://127.0.0.1:4599`).

One WSGI app in front of moto's DomainDispatcherApplication: a request signed for `personalize`
(control plane, runtime and events all sign with that name; the X-Amz-Target header or the path
tells them apart) goes to the World's Personalize, everything else to moto. The World is loaded at
start and saved on shutdown and every few seconds after a change; its clock is wall time x speed.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from local.emulator import moto_internals
from local.emulator.clock import ScaledClock
from local.emulator.personalize import protocol
from local.emulator.world import DEFAULT_PATH, LostResponse, World, install_bridge, operation_of

StartResponse = Callable[..., Any]
READ_ONLY = ("Describe", "List", "Get")


def make_app(world: World, on_change: Callable[[], None] | None = None) -> Callable[..., Iterable[bytes]]:
    """The WSGI app serving `world` (which must be attached: `with world.attached():`)."""
    install_bridge()  # moto's bucket-policy fix applies to the server too
    moto_app = moto_internals.server_app()

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
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
            if on_change and environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
                on_change()
            result: Iterable[bytes] = moto_app(environ, start_response)
            return result
        service, operation, region = found
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        try:
            status, out_headers, out = world.personalize_request(service, operation, region, body)
        except LostResponse:
            # the operation took effect; the caller sees the connection fail (no response)
            raise ConnectionAbortedError(f"{service} {operation}: injected lost response") from None
        if on_change and not operation.startswith(READ_ONLY):
            on_change()
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"}
        start_response(f"{status} {reason.get(status, 'Error')}",
                       [(k, v) for k, v in out_headers.items()] + [("Content-Length", str(len(out)))])
        return [out]

    return app


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
        server = make_server("127.0.0.1", port, make_app(world, dirty.set), threaded=True)
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



