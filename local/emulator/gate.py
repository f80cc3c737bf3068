"""IAM on every call: the World asks here, before a request reaches moto or the local Personalize,
whether the caller may make it, and answers a refusal the way the service does.

The caller is told from the request's SigV4 credential (the access key id in the Authorization
header), as AWS does: a Lambda the runner invokes holds its execution role's session credentials,
so its calls are evaluated against that role's policies as the template created them (plus the
bucket policy on S3 and the key policy on KMS). Requests signed with any other key (the person
deploying, CloudFormation itself, tests) are the account's administrator and pass unevaluated.

Denials (IAM User Guide, "Access denied error messages":
https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html):
- Personalize and the other JSON-protocol services: `AccessDeniedException`, HTTP 400 (the English
  Common Errors page of Personalize: https://docs.aws.amazon.com/personalize/latest/dg/CommonErrors.html;
  newer translated copies say 403; botocore maps the error by its code either way);
- S3: the XML error `AccessDenied`, HTTP 403 (also when S3's use of an SSE-KMS object's key on the
  caller's behalf is refused: local.emulator.policy.sse_kms)
  (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList);
- query-protocol services (STS, IAM, SNS, CloudWatch): `AccessDenied`, HTTP 403, in an ErrorResponse.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from local.emulator.personalize import protocol
from local.emulator.policy import sse_kms
from local.emulator.policy.authority import Denied, Iam
from local.emulator.policy.evaluation import Principal
from local.emulator.policy.requests import Check, Unmapped, json_checks, personalize_checks, s3_checks

Answer = tuple[int, dict[str, str], bytes]
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
#: SigV4 signing names whose IAM prefix differs
_PREFIX = {"monitoring": "cloudwatch", "email": "ses"}
_JSON_SERVICES = ("states", "kms", "logs", "events", "dynamodb", "secretsmanager", "ssm", "lambda")


def credential(headers: Any) -> tuple[str, str, str] | None:
    """(access key id, region, signing name) of a SigV4-signed request, None when unsigned."""
    auth = headers.get("Authorization") or headers.get("authorization") or ""
    if isinstance(auth, bytes):
        auth = auth.decode()
    found = _CREDENTIAL.search(str(auth))
    return (found.group(1), found.group(2), found.group(3)) if found else None


def _personalize_params(body: Any) -> dict[str, Any]:
    raw = body.decode() if isinstance(body, bytes) else (body or "")
    try:
        params = json.loads(raw or "{}")
    except ValueError:
        return {}
    return params if isinstance(params, dict) else {}


def check_personalize(iam: Iam, caller: Principal, service: str, operation: str, region: str,
                      account: str, body: Any) -> Answer | None:
    """None when `caller` may make this Personalize request, else the service's denial."""
    checks = personalize_checks(operation, _personalize_params(body), account, region)
    try:
        iam.check(caller, checks, region)
    except Denied as denied:
        return protocol.error_response(service, "AccessDeniedException", denied.message, 400)
    return None


def check_other(iam: Iam, caller: Principal, request: Any, headers: dict[str, str], region: str,
                signing: str, account: str) -> Answer | None:
    """None when `caller` may make this request to a moto service, else that service's denial."""
    service = _PREFIX.get(signing, signing)
    # S3 needs the body only for DeleteObjects (POST ?delete): never consume an upload stream
    raw = _body(request) if service != "s3" or request.method == "POST" else b""
    try:
        checks = _checks(service, request.method, request.url, headers, raw, account, region)
    except Unmapped as error:
        return _denial(service, f"User: {caller.arn} is not authorized to perform this request ({error})")
    try:
        iam.check(caller, checks, region)
    except Denied as denied:
        return _denial(service, denied.message)
    return None


def _body(request: Any) -> bytes:
    body = request.body
    if hasattr(body, "read"):
        position = body.tell() if hasattr(body, "tell") else None
        data = body.read()
        if position is not None and hasattr(body, "seek"):
            body.seek(position)
        body = data
    return body.encode() if isinstance(body, str) else (body or b"")


def _checks(service: str, method: str, url: str, headers: dict[str, str], body: bytes, account: str,
            region: str) -> list[Check]:
    if service == "s3":
        checks = s3_checks(method, url, headers, body)
        return checks + sse_kms.checks_for(checks, account, region, headers)
    target = headers.get("X-Amz-Target") or headers.get("x-amz-target")
    if target:
        params = json.loads(body or b"{}") if body else {}
        return json_checks(service, str(target).rsplit(".", 1)[-1], params, account, region)
    query = parse_qs(body.decode("utf-8", "replace")) if body else {}
    query = query or parse_qs(urlsplit(url).query)
    action = (query.get("Action") or [""])[0]
    if not action:
        raise Unmapped(f"{service} {method} {urlsplit(url).path}")
    return [Check(f"{service}:{action}", "*")]


def _denial(service: str, message: str) -> Answer:
    if service == "s3":
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
                f"<Message>{escape(message)}</Message></Error>")
        return 403, {"Content-Type": "application/xml"}, body.encode()
    if service in _JSON_SERVICES:
        payload = json.dumps({"__type": "AccessDeniedException", "message": message})
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": "AccessDeniedException"}
        return 400, headers, payload.encode()
    body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
            f"<Message>{escape(message)}</Message></Error></ErrorResponse>")
    return 403, {"Content-Type": "text/xml"}, body.encode()
