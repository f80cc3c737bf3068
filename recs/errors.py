"""What can go wrong when asking a deployed campaign, as exceptions a caller can catch one by one.

Every error's message says what to do next. `exit_code` is what the CLI exits with: 2 for what the
caller can fix (the command, the config, the deployment, the credentials), 1 for the service
failing or refusing for a reason of its own (throttling, an outage, an unexpected answer)."""

from __future__ import annotations


class RecsError(Exception):
    """Base of every error this package raises on purpose."""

    exit_code = 2


class NoSuchEnvironment(RecsError):
    """No config/<env>.toml (or it is not a valid configuration)."""


class StackNotDeployed(RecsError):
    """The environment's stack does not exist, was deleted, or is not in a state that serves."""


class CampaignNotDeployed(RecsError):
    """The campaign is not in the deployed stack, or Personalize says it is not (yet) serving."""


class UnknownCampaign(CampaignNotDeployed):
    """The campaign name is neither in the environment's config nor in its deployed stack."""


class UnknownFilter(RecsError):
    """The filter is not in the deployed dataset group (or is not ACTIVE)."""


class BadRequest(RecsError):
    """The request itself is wrong: missing user/item, bad item list, numResults out of range, or
    Personalize's InvalidInputException."""


class MissingFilterValues(BadRequest):
    """A parameterised filter was used without a value for each of its $PARAMETERS."""


class CredentialsMissing(RecsError):
    """No AWS credentials were found, or AWS rejected them (expired, unknown key)."""


class AccessDenied(RecsError):
    """The credentials work but lack a permission the call needs."""


class ServiceError(RecsError):
    """The service failed or could not be reached; retrying later may help."""

    exit_code = 1
