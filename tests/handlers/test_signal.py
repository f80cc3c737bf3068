"""signal(): the PUT a CloudFormation WaitCondition handle expects, against a real local server."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from personalize_handlers.common import HandlerError
from personalize_handlers.entry import signal


class _Recorder(http.server.BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    status = 200

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.received.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def handle_server() -> Iterator[tuple[str, type[_Recorder]]]:
    recorder = type("Recorder", (_Recorder,), {"received": [], "status": 200})
    server = http.server.HTTPServer(("127.0.0.1", 0), recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/handle/abc?X-Amz-Signature=sig", recorder
    finally:
        server.shutdown()
        server.server_close()


ARN = "arn:aws:personalize:us-east-1:123456789012:solution/dev-up/abc123"


def test_success_signal(handle_server: tuple[str, type[_Recorder]]) -> None:
    url, recorder = handle_server
    out = signal({"kind": "SolutionVersion", "arn": ARN, "handleUrl": url, "state": "SUCCEEDED",
                  "reason": "SolutionVersion TrainUp is ACTIVE", "resource": "TrainUp"})
    assert out["signalled"] == "SUCCESS"
    (request,) = recorder.received
    assert request["path"] == "/handle/abc?X-Amz-Signature=sig"
    assert json.loads(request["body"]) == {"Status": "SUCCESS", "Reason": "SolutionVersion TrainUp is ACTIVE",
                                           "UniqueId": ARN, "Data": ARN}
    content_type = {k.lower(): v for k, v in request["headers"].items()}.get("content-type")
    assert content_type == ""  # presigned URL: the signature covers an empty Content-Type


def test_failure_signal_carries_the_reason(handle_server: tuple[str, type[_Recorder]]) -> None:
    url, recorder = handle_server
    signal({"kind": "DatasetImportJob", "arn": ARN, "handleUrl": url, "state": "FAILED",
            "reason": "DatasetImportJob Import: CreateDatasetImportJob failed: row 7 column TIMESTAMP"})
    body = json.loads(recorder.received[0]["body"])
    assert body["Status"] == "FAILURE"
    assert "row 7 column TIMESTAMP" in body["Reason"]


def test_failure_from_a_catch_uses_the_lambda_error(handle_server: tuple[str, type[_Recorder]]) -> None:
    url, recorder = handle_server
    cause = json.dumps({"errorMessage": "SolutionVersion x: DescribeSolutionVersion failed: AccessDenied",
                        "errorType": "HandlerError"})
    signal({"kind": "SolutionVersion", "arn": ARN, "handleUrl": url,
            "error": {"Error": "HandlerError", "Cause": cause}})
    body = json.loads(recorder.received[0]["body"])
    assert body["Status"] == "FAILURE"
    assert body["Reason"] == "waiter failed: SolutionVersion x: DescribeSolutionVersion failed: AccessDenied"


def test_reason_is_truncated(handle_server: tuple[str, type[_Recorder]]) -> None:
    url, recorder = handle_server
    signal({"kind": "Campaign", "arn": ARN, "handleUrl": url, "state": "FAILED", "reason": "x" * 10_000})
    assert len(json.loads(recorder.received[0]["body"])["Reason"]) <= 1024


def test_http_error_raises(handle_server: tuple[str, type[_Recorder]]) -> None:
    url, recorder = handle_server
    recorder.status = 403
    with pytest.raises(HandlerError, match="PUT to the WaitCondition handle failed"):
        signal({"kind": "Campaign", "arn": ARN, "handleUrl": url, "state": "SUCCEEDED"})


def test_bad_url_is_rejected() -> None:
    with pytest.raises(HandlerError, match="handleUrl must be an http"):
        signal({"kind": "Campaign", "arn": ARN, "handleUrl": "file:///etc/passwd", "state": "SUCCEEDED"})
