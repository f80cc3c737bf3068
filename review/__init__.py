"""`pz review`: what a change does to a deployed pipeline, found by doing it. The base and the head
are synthesized, the base is deployed to a scratch local world and updated to the head by the local
runner on the virtual clock; the review reports what that update did to each resource in Amazon
Personalize's terms, its timeline, its cost and what it changes in security (docs/review.md).

Modules, from the top: core (the whole review), render (Markdown, JSON), kinds (what each outcome
means per Custom::Personalize* type), outcomes (what happened to each resource), cost (pricing.toml),
security (IAM, cdk-nag, checkov), simulate (the scratch world), sources (git export, synth)."""

from review.core import Request, Review, run
from review.sources import SourceError, Tree

__all__ = ["Request", "Review", "SourceError", "Tree", "run"]
