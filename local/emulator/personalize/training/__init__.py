"""Training and inference of the local Personalize: small, fast, deterministic models per recipe.

Where to change how the local Personalize trains:

    fit.py       train(): the recipe and data checks, the holdout split and the metrics, which
                 scorer each recipe fits (and with which hyperparameters)
    scorers.py   how each recipe family ranks: similarities and the scorers built on them
    features.py  what the models read of the data: event selection and weights, user histories,
                 item metadata tokens
    model.py     TrainedModel: what a campaign serves (recommend, rank), PutEvents (observe),
                 GetSolutionMetrics (metrics), batch segments
    __main__.py  `python -m local.emulator.personalize.training [DATA_DIR] [RECIPE ...]`: train
                 every recipe on data/ and print time and metrics

Every recipe family really learns from the imported interactions (see docs/local-training.md for
what each recipe does here and in the service):

- POPULAR_ITEMS: aws-popularity-count counts events; aws-trending-now ranks the growth of the
  most recent window over the one before.
- RELATED_ITEMS: aws-sims scores item pairs by co-occurrence in user histories (cosine, damped
  for popular targets); aws-similar-items blends that with item-metadata similarity; aws-semantic-
  similarity ranks by TF-IDF cosine of the textual item fields.
- USER_PERSONALIZATION and PERSONALIZED_RANKING: item-based collaborative filtering on the user's
  recency-weighted history, mixed with the user's own recent items at the repeat rate measured in
  the data, and popularity for users without history (cold start).
- USER_SEGMENTATION: the same item similarities read the other way (users for items), or the
  users' share of interactions with items having an attribute.

Scores returned are a distribution over the candidate catalogue (each in (0, 1], summing to at most
1 before filtering), like the service's User-Personalization scores. Metrics (GetSolutionMetrics)
come from the service's holdout: 10% of users are held out, the model trains on the others, then
gets each held-out user's oldest 90% of interactions and is scored on their newest 10%
(`working-with-training-metrics`).

Determinism: no iteration over string-keyed sets, ties broken by item id, the holdout drawn with
`random.Random(seed)`; the same inputs and seed give the same model, metrics and recommendations.
"""

from local.emulator.personalize.training.features import EventSelection
from local.emulator.personalize.training.fit import family_of, train
from local.emulator.personalize.training.model import TrainedModel

__all__ = ["EventSelection", "TrainedModel", "family_of", "train"]
