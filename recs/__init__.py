"""Recommendations from a deployed environment, on AWS or on the local Personalize.

Python: `Recommender.for_environment("dev", target="aws"|"local")`, then `.recommend(...)` or
`.rank(...)` (recs/api.py). Command line: `pz recommend` or `./recommend` (cli/commands/recommend.py).
The AWS target needs boto3 and pipeline/ only; the local target imports local/ when chosen.
"""

from recs.api import Filter, Recommendation, Recommender, Result, Target
from recs.errors import (
    AccessDenied,
    BadRequest,
    CampaignNotDeployed,
    CredentialsMissing,
    MissingFilterValues,
    NoSuchEnvironment,
    RecsError,
    ServiceError,
    StackNotDeployed,
    UnknownCampaign,
    UnknownFilter,
)
from recs.stack import Campaign, DeployedStack

__all__ = [
    "AccessDenied",
    "BadRequest",
    "Campaign",
    "CampaignNotDeployed",
    "CredentialsMissing",
    "DeployedStack",
    "Filter",
    "MissingFilterValues",
    "NoSuchEnvironment",
    "Recommendation",
    "Recommender",
    "RecsError",
    "Result",
    "ServiceError",
    "StackNotDeployed",
    "Target",
    "UnknownCampaign",
    "UnknownFilter",
]
