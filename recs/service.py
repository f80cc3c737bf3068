"""botocore errors -> this package's errors, each with what to do about it."""

from __future__ import annotations

from typing import Any

from recs.errors import (
    AccessDenied,
    BadRequest,
    CampaignNotDeployed,
    CredentialsMissing,
    RecsError,
    ServiceError,
)

#: Error codes AWS answers when the credentials themselves are wrong, not their permissions.
REJECTED_CREDENTIALS = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
}


def translate(error: Any, what: str, campaign: Any = None) -> RecsError:
    """A RecsError for a botocore exception raised while doing `what` (e.g. "GetRecommendations")."""
    from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError

    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return CredentialsMissing(
            f"AWS credentials are missing ({error}): configure them (`aws configure`, AWS_PROFILE, "
            "or --profile), or use --target local for the local deploy"
        )
    if not isinstance(error, ClientError):
        return ServiceError(f"{what} failed: {type(error).__name__}: {error}; retry later")
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "") or str(error)
    if code in REJECTED_CREDENTIALS:
        return CredentialsMissing(
            f"AWS rejected the credentials ({code}: {message}): refresh them (`aws sso login`, "
            "`aws configure`) or pick another profile with --profile"
        )
    if code in ("AccessDenied", "AccessDeniedException"):
        return AccessDenied(
            f"{what}: access denied ({message}): the identity needs this permission on the resource "
            "(docs/recommend.md lists the actions)"
        )
    if code == "ResourceNotFoundException" and campaign is not None:
        return CampaignNotDeployed(
            f"campaign {campaign.name} ({campaign.arn}) is not serving: {message}. It may still be "
            "creating or have been deleted outside the stack; check `aws personalize describe-campaign "
            f"--campaign-arn {campaign.arn}` and deploy the stack again"
        )
    if code in ("InvalidInputException", "ValidationException", "ValidationError"):
        hint = f"; campaign {campaign.name} takes {campaign.usage}" if campaign is not None else ""
        return BadRequest(f"{what} refused the request: {message}{hint}")
    return ServiceError(f"{what} failed: {code}: {message}; retry later")
