"""HTTP <-> backend: the wire formats botocore speaks to Personalize.

- control plane `personalize`: awsJson1_1, POST /, `X-Amz-Target: AmazonPersonalize.<Operation>`;
- runtime `personalize-runtime`: restJson1, POST /recommendations, /personalize-ranking;
- events `personalize-events`: restJson1, POST /events.
Errors: the status of the error shape in botocore's service model (400, some 404), JSON body
`{"__type": code, "message": ...}` and header `x-amzn-ErrorType`, which botocore reads.
"""

from __future__ import annotations

import json
import re
import uuid
from email.utils import formatdate
from functools import lru_cache
from typing import Any

from local.emulator.personalize.backend import PersonalizeBackend
from local.emulator.personalize.errors import PersonalizeError

SERVICES = ("personalize", "personalize-runtime", "personalize-events")
HOST_RE = re.compile(r"^(personalize(?:-runtime|-events)?)\.([a-z0-9-]+)\.amazonaws\.com")
SCOPE_RE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
RUNTIME_PATHS = {"/recommendations": "GetRecommendations", "/personalize-ranking": "GetPersonalizedRanking",
                 "/action-recommendations": "GetActionRecommendations"}
EVENTS_PATHS = {"/events": "PutEvents", "/items": "PutItems", "/users": "PutUsers", "/actions": "PutActions",
                "/action-interactions": "PutActionInteractions"}

Response = tuple[int, dict[str, str], bytes]


@lru_cache(maxsize=8)
def _error_status(service: str, code: str) -> int:
    import botocore.session

    try:
        model = botocore.session.get_session().get_service_model(service)
        shape = model.shape_for(code)
        return int(shape.metadata.get("error", {}).get("httpStatusCode", 400))
    except Exception:
        return 400


def identify(host: str, path: str, headers: dict[str, str]) -> tuple[str, str, str] | None:
    """(service, operation, region) of a Personalize request, or None when it is not one.

    In process the host names the service; against the server (one host for all) the SigV4 scope
    says `personalize` for all three and the target header or the path tells them apart."""
    lower = {k.lower(): v for k, v in headers.items()}
    target = lower.get("x-amz-target", "")
    match = HOST_RE.match(host)
    if match:
        service, region = match.group(1), match.group(2)
    else:
        scope = SCOPE_RE.search(lower.get("authorization", ""))
        if scope is None or scope.group(2) != "personalize":
            return None
        region = scope.group(1)
        if target.startswith("AmazonPersonalize."):
            service = "personalize"
        elif path in RUNTIME_PATHS:
            service = "personalize-runtime"
        elif path in EVENTS_PATHS:
            service = "personalize-events"
        else:
            return None
    if service == "personalize":
        operation = target.split(".", 1)[1] if "." in target else ""
    elif service == "personalize-runtime":
        operation = RUNTIME_PATHS.get(path, "")
    else:
        operation = EVENTS_PATHS.get(path, "")
    return service, operation, region


def error_response(service: str, code: str, message: str, status: int | None = None) -> Response:
    content = "application/x-amz-json-1.1" if service == "personalize" else "application/json"
    body = json.dumps({"__type": code, "message": message}).encode()
    return (status or _error_status(service, code),
            {"Content-Type": content, "x-amzn-ErrorType": code, "x-amzn-RequestId": str(uuid.uuid4())}, body)


def dispatch(backend: PersonalizeBackend, service: str, operation: str, region: str, account: str,
             body: bytes | str | None) -> Response:
    """Run one request against the backend and encode the answer, with the HTTP `Date` header
    every AWS response carries, from the backend's clock (the handlers read the service's time
    from it, e.g. the Dataset Delete's import deadline)."""
    status, headers, payload = _dispatch(backend, service, operation, region, account, body)
    return status, {**headers, "Date": formatdate(backend.clock.now(), usegmt=True)}, payload


def _dispatch(backend: PersonalizeBackend, service: str, operation: str, region: str, account: str,
              body: bytes | str | None) -> Response:
    try:
        params: dict[str, Any] = json.loads(body or b"{}")
        if not isinstance(params, dict):
            raise ValueError("not an object")
    except ValueError:
        return error_response(service, "SerializationException", "The request body is not valid JSON.", 400)
    try:
        if service == "personalize":
            if not operation:
                raise PersonalizeError("UnknownOperationException", "Missing X-Amz-Target.")
            result = backend.handle(operation, params, account, region)
        elif operation == "GetRecommendations":
            result = backend.runtime.get_recommendations(params)
        elif operation == "GetPersonalizedRanking":
            result = backend.runtime.get_personalized_ranking(params)
        elif operation == "PutEvents":
            result = backend.runtime.put_events(params)
        else:
            raise PersonalizeError("InvalidInputException",
                                   f"The local Personalize does not implement {service} {operation or '?'}.")
    except PersonalizeError as error:
        return error_response(service, error.code, error.message,
                              error.status if error.status != 400 else None)
    content = "application/x-amz-json-1.1" if service == "personalize" else "application/json"
    return 200, {"Content-Type": content, "x-amzn-RequestId": str(uuid.uuid4())}, json.dumps(result).encode()
