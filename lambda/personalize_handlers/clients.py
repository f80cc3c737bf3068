"""boto3 clients with botocore's standard retry mode, and one JSON log line per API call.

Standard mode retries throttling (ThrottlingException, and LimitExceededException, which
Personalize also uses for its request rate) and transient errors with exponential backoff and
jitter; 10 attempts ride out a 30 % throttling rate with a failure chance of 0.3^10 per call.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})

log = logging.getLogger("personalize_handlers.api")
if not log.handlers:
    _handler = logging.StreamHandler(sys.stdout)
    _handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def client(service: str) -> Any:
    """A fresh client (made per invocation, so tests that swap endpoints are always honoured)."""
    return boto3.client(service, config=RETRY_CONFIG)


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    return type(exc).__name__


def error_message(exc: BaseException) -> str:
    """The service's own message (not botocore's wrapper text), falling back to str(exc)."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        message = err.get("Message") or str(exc)
        return f"{err.get('Code', 'ClientError')}: {message}"
    return f"{type(exc).__name__}: {exc}"


class Api:
    """Calls one service on behalf of one resource, logging `{op, kind, name, ms, error}` per call."""

    def __init__(self, service: str, kind: str, name: str, boto_client: Any | None = None) -> None:
        self.service = service
        self.kind = kind
        self.name = name
        self._client = boto_client

    @property
    def raw(self) -> Any:
        if self._client is None:
            self._client = client(self.service)
        return self._client

    def _api_name(self, op: str) -> str:
        """`create_dataset_group` -> `CreateDatasetGroup`, the name in CloudTrail and the docs."""
        mapping = getattr(getattr(self._client, "meta", None), "method_to_api_mapping", None) or {}
        return str(mapping.get(op) or "".join(part.title() for part in op.split("_")))

    def __call__(self, op: str, **params: Any) -> dict[str, Any]:
        start = time.perf_counter()
        error: str | None = None
        attempts: int | None = None
        try:
            response: dict[str, Any] = getattr(self.raw, op)(**params)
            attempts = response.get("ResponseMetadata", {}).get("RetryAttempts")
            return response
        except (ClientError, BotoCoreError) as exc:
            error = error_code(exc)
            if isinstance(exc, ClientError):
                attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts")
            raise
        finally:
            record = {
                "op": self._api_name(op),
                "kind": self.kind,
                "name": self.name,
                "ms": round((time.perf_counter() - start) * 1000, 1),
                "error": error,
            }
            if attempts:
                record["retries"] = attempts
            log.info(json.dumps(record, separators=(",", ":")))
