"""Solutions in the local Personalize: solutions, solution versions (training, automatic training,
stopping), their metrics, and the recipe catalogue they pick from.

A solution version trains with local.emulator.personalize.training.train on the dataset group's
current data, after the service's training minimums; the model it returns serves campaigns, batch
jobs and GetSolutionMetrics. How the model learns is training's business, not this module's.
"""

from __future__ import annotations

import copy
import hashlib
import math
import re
from collections import Counter
from typing import Any

from local.emulator.personalize import borrowed
from local.emulator.personalize.errors import exists, in_use, invalid, limit, not_found
from local.emulator.personalize.resources import (
    IN_PROGRESS,
    Campaign,
    Dataset,
    Solution,
    SolutionUpdate,
    SolutionVersion,
)
from local.emulator.personalize.store import LATEST, Context, Part, Store

#: Training minimums (limits page): interaction records after event-type filtering, and users
#: with at least 2 interactions.
MIN_TRAINING_INTERACTIONS = 1000
MIN_USERS_WITH_2 = 25
MIN_SHARE_WITH_2 = 0.01
#: trainingMode UPDATE: "The UPDATE option can only be used when you already have an active solution
#: version created from the input solution using the FULL option and the input solution was trained
#: with the User-Personalization recipe or the legacy HRNN-Coldstart recipe" (botocore personalize,
#: CreateSolutionVersionRequest.trainingMode).
UPDATE_RECIPES = ("aws-user-personalization", "aws-hrnn-coldstart")
#: ListRecipes' and DescribeRecipe's creation time for every recipe (2018-12-01)
RECIPE_CREATED = 1543622400.0


class Solutions(Part):
    """Solutions, solution versions, metrics and recipes."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        store.on("solution_active", self._on_solution_active)
        store.on("auto_train", self._on_auto_train)
        store.on("train_start", self._on_train_start)
        store.on("train_done", self._on_train_done)
        store.on("solution_update_status", self._on_update_status)
        store.on("solution_update_done", self._on_update_done)

    # ================================ solutions ===============================================
    def op_CreateSolution(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        name = store.check_name(p.get("name"))
        group = store.active_dataset_group(p.get("datasetGroupArn"))
        recipe_arn = p.get("recipeArn")
        if p.get("performAutoML"):
            raise invalid("performAutoML is no longer supported; choose a recipe with recipeArn.")
        if not recipe_arn:
            raise invalid("recipeArn is required.")
        recipe = borrowed.recipe_name(recipe_arn)
        if recipe in borrowed.RETIRED:
            raise invalid(f"The recipe {recipe_arn} is no longer supported for new solutions. "
                          f"Use arn:aws:personalize:::recipe/{borrowed.RETIRED[recipe]} instead.")
        if not borrowed.is_recipe_arn(recipe_arn):
            raise not_found(f"Resource Arn {recipe_arn} does not exist.")
        config = p.get("solutionConfig")
        if config is not None and not isinstance(config, dict):
            raise invalid("solutionConfig must be an object.")
        auto_training_days(config)  # validates schedulingExpression
        arn = store.arn(ctx, "solution", name)
        solution = store.new(Solution, ctx, arn, name, p.get("tags"), dataset_group_arn=group.arn,
                             recipe_arn=recipe_arn, perform_hpo=bool(p.get("performHPO", False)),
                             perform_auto_training=bool(p.get("performAutoTraining", True)),
                             event_type=p.get("eventType"), solution_config=config)
        quota = store.quotas["solutions_per_dataset_group"]
        if len(store.all_of(Solution, lambda s: s.dataset_group_arn == group.arn)) >= quota:
            raise limit(f"You have reached the maximum of {quota} solutions in dataset group {group.arn}.")
        store.add(solution)
        store.start_create(solution, store.durations.of("solution", name), done="solution_active")
        return {"solutionArn": arn}

    def op_DescribeSolution(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        solution = self.store.find(Solution, p.get("solutionArn"))
        latest = self.store.resources.get(solution.latest_version_arn or "")
        return {"solution": solution.describe(latest if isinstance(latest, SolutionVersion) else None)}

    def op_ListSolutions(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        group = p.get("datasetGroupArn")
        found = store.listed(Solution, ctx, lambda s: group is None or s.dataset_group_arn == group)
        return store.page([s.summary() for s in found], p, "solutions")

    def op_DeleteSolution(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        solution = store.find(Solution, p.get("solutionArn"))
        store.check_deletable(solution)
        if solution.updating:
            # "While the update is in progress, you can create solution versions for the solution
            # but you can't delete the solution" (updating-solution)
            raise in_use(f"Solution {solution.arn} cannot be deleted while an update is in progress.")
        versions = store.all_of(SolutionVersion, lambda v: v.solution_arn == solution.arn)
        training = [v for v in versions if v.busy]
        if training:
            raise in_use(f"Solution {solution.arn} cannot be deleted: solution version {training[0].arn} "
                         f"is {training[0].status}.")
        version_arns = {v.arn for v in versions}
        campaigns = store.all_of(Campaign, lambda c: c.solution_version_arn in version_arns
                                 or c.serving_arn in version_arns
                                 or c.solution_version_arn == solution.arn + LATEST)
        if campaigns:
            raise in_use(f"Solution {solution.arn} cannot be deleted: campaign {campaigns[0].arn} uses it. "
                         "Delete the campaign first.")
        store.start_delete(solution, store.durations.of("delete", solution.name))
        return {}

    def _on_solution_active(self, solution: Solution, at: float, _: Any) -> None:
        self.store.set_status(solution, "ACTIVE", at)
        if solution.perform_auto_training:
            # "the first automatic training starts within one hour" of the solution becoming ACTIVE
            self._start_schedule(solution, at)

    def _start_schedule(self, solution: Solution, at: float) -> None:
        """A new automatic-training schedule from `at`: its first run within the hour; the runs the
        previous schedule had planned are void."""
        solution.auto_schedule += 1
        solution.auto_since = at
        solution.auto_runs = 0
        self.store.schedule(at + 3600.0, "auto_train", solution, solution.auto_schedule)

    # ================================ solution updates ========================================
    def op_UpdateSolution(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        """UpdateSolution (botocore UpdateSolutionRequest; API_UpdateSolution, updating-solution):
        automatic training on or off, its schedule, the events configuration. Refused while the
        solution is not ACTIVE or another update runs (ResourceInUseException); the solution keeps
        its configuration until the update is ACTIVE ("Until the update completes, the solution
        uses the previous configuration")."""
        store = self.store
        solution = store.find(Solution, p.get("solutionArn"))
        if solution.status != "ACTIVE":
            raise in_use(f"Solution {solution.arn} is not in ACTIVE state (status: {solution.status}).")
        if solution.updating:
            raise in_use(f"Solution {solution.arn} has an update in progress.")
        recipe = borrowed.recipe_name(solution.recipe_arn)
        if p.get("performIncrementalUpdate") and recipe != "aws-semantic-similarity":
            raise invalid("performIncrementalUpdate is supported only for solutions that use the "
                          "semantic-similarity recipe.")
        config = p.get("solutionUpdateConfig") or {}
        if not isinstance(config, dict):
            raise invalid("solutionUpdateConfig must be an object.")
        auto_training_days(config)  # validates schedulingExpression
        auto = p.get("performAutoTraining")
        now = store.now()
        solution.latest_update = SolutionUpdate(
            solution.perform_auto_training if auto is None else bool(auto), copy.deepcopy(config),
            "CREATE PENDING", now, now)
        total = store.durations.of("solution_update", solution.name)
        store.schedule(now + total / 4, "solution_update_status", solution, "CREATE IN_PROGRESS")
        store.schedule(now + total, "solution_update_done", solution)
        return {"solutionArn": solution.arn}

    def _on_update_status(self, solution: Solution, at: float, status: str) -> None:
        if solution.latest_update:
            solution.latest_update.status, solution.latest_update.updated = status, at

    def _on_update_done(self, solution: Solution, at: float, _: Any) -> None:
        """The new configuration applies: "If you turn on automatic training, the first automatic
        training starts within one hour after the solution update completes"; "If you modify the
        solution's training frequency, the training schedule resets and a new solution version
        starts training within the hour"; "the new events config will replace the original one"
        (updating-solution). Off: no further automatic runs."""
        update = solution.latest_update
        if update is None:
            return
        was_on = solution.perform_auto_training
        old_days = auto_training_days(solution.solution_config)
        config = dict(solution.solution_config or {})
        for key in ("autoTrainingConfig", "eventsConfig"):
            if key in update.config:
                config[key] = update.config[key]
        if not (config.get("eventsConfig") or {}).get("eventParametersList"):
            config.pop("eventsConfig", None)
        solution.solution_config = config or None
        solution.perform_auto_training = update.perform_auto_training
        update.status, update.updated = "ACTIVE", at
        solution.updated = at
        if not solution.perform_auto_training:
            solution.auto_schedule += 1  # voids the runs planned
        elif not was_on or auto_training_days(config) != old_days:
            self._start_schedule(solution, at)

    def _on_auto_train(self, solution: Solution, at: float, schedule: Any) -> None:
        """performAutoTraining: a solution version with trainingType AUTOMATIC, then every N days
        (autoTrainingConfig.schedulingExpression, default rate(7 days)): each run is billed. "If you
        manually create a solution version within the hour, the solution skips the first automatic
        training" (CreateSolutionRequest.performAutoTraining); "Automatic training occurs only if you
        imported bulk or real-time interaction data since the last training"
        (solution-config-auto-training)."""
        store = self.store
        if (schedule or 0) != solution.auto_schedule or not solution.perform_auto_training:
            return  # planned by a schedule an update replaced or switched off
        first = solution.auto_runs == 0
        solution.auto_runs += 1
        manual = store.all_of(SolutionVersion, lambda v: v.solution_arn == solution.arn
                              and v.training_type == "MANUAL" and v.created >= solution.auto_since)
        if solution.status == "ACTIVE" and not (first and manual) and self._new_interactions(solution):
            where = (solution.account, solution.region)
            running = store.all_of(SolutionVersion,
                                   lambda v: store.in_context(v, where) and v.status in IN_PROGRESS)
            if len(running) < store.quotas["solution_versions_in_progress_per_region"]:
                self._new_version(solution, at, None, "AUTOTRAIN", "AUTOMATIC", {})
        days = auto_training_days(solution.solution_config)
        store.schedule(at + days * 86400.0, "auto_train", solution, solution.auto_schedule)

    def _interactions(self, solution: Solution) -> Any:
        found = self.store.all_of(Dataset, lambda d: d.dataset_group_arn == solution.dataset_group_arn
                                  and d.dataset_type.lower() == "interactions")
        return found[0].data if found else None

    def _new_interactions(self, solution: Solution) -> bool:
        """Interaction data arrived (an import, PutEvents) since the solution's last training."""
        data = self._interactions(solution)
        if data is None or len(data) == 0:
            return False
        if solution.trained_on is None:
            return True
        trained, rows = solution.trained_on
        return data is not trained or len(data) != rows

    # ================================ solution versions =======================================
    def op_CreateSolutionVersion(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        solution = store.find(Solution, p.get("solutionArn"))
        if solution.status != "ACTIVE":
            raise in_use(f"Solution {solution.arn} is not in ACTIVE state (status: {solution.status}).")
        mode = p.get("trainingMode") or "FULL"
        if mode not in ("FULL", "UPDATE", "AUTOTRAIN"):
            raise invalid(f"Invalid trainingMode {mode!r}; expected FULL or UPDATE.")
        if mode == "UPDATE" and borrowed.recipe_name(solution.recipe_arn) not in UPDATE_RECIPES:
            raise invalid(f"trainingMode UPDATE is only supported for solutions trained with the "
                          f"User-Personalization recipe, not {solution.recipe_arn}.")
        if mode == "UPDATE" and not store.all_of(SolutionVersion, lambda v: v.solution_arn == solution.arn
                                                 and v.status == "ACTIVE" and v.training_mode == "FULL"):
            raise invalid(f"trainingMode UPDATE needs an ACTIVE solution version of {solution.arn} created "
                          "with trainingMode FULL.")
        name = p.get("name")
        if name is not None:
            store.check_name(name)
            if store.all_of(SolutionVersion, lambda v: store.in_context(v, ctx) and v.version_name == name):
                raise exists(f"A solution version named {name} already exists.")
        quota = store.quotas["solution_versions_in_progress_per_region"]
        running = store.all_of(SolutionVersion,
                               lambda v: store.in_context(v, ctx) and v.status in IN_PROGRESS)
        if len(running) >= quota:
            raise limit(f"More than {quota} resources with PENDING or IN_PROGRESS status.")
        version = self._new_version(solution, store.now(), name, mode, "MANUAL", store.tags(p.get("tags")))
        return {"solutionVersionArn": version.arn}

    def _new_version(self, solution: Solution, at: float, name: str | None, mode: str, training_type: str,
                     tags: dict[str, str]) -> SolutionVersion:
        store = self.store
        seed = f"{solution.arn}:{len(store.all_of(SolutionVersion))}:{store.sequence}:{name}"
        arn = f"{solution.arn}/{hashlib.sha256(seed.encode()).hexdigest()[:8]}"
        version = SolutionVersion(arn=arn, name=solution.name, account=solution.account,
                                  region=solution.region, created=at, updated=at, tags=tags,
                                  solution_arn=solution.arn, solution_name=solution.name, version_name=name,
                                  training_mode=mode, training_type=training_type)
        store.add(version)
        solution.latest_version_arn = arn
        store.schedule(at + 10.0, "train_start", version)
        return version

    def _on_train_start(self, version: SolutionVersion, at: float, _: Any) -> None:
        store = self.store
        store.set_status(version, "CREATE IN_PROGRESS", at)
        solution = store.resources.get(version.solution_arn)
        if not isinstance(solution, Solution):
            store.schedule(at, "failed", version, "The solution no longer exists.")
            return
        datasets = {d.dataset_type.lower(): d for d in
                    store.all_of(Dataset, lambda d: d.dataset_group_arn == solution.dataset_group_arn)}
        interactions = datasets.get("interactions")
        data = interactions.data if interactions is not None else None
        if data is not None:
            solution.trained_on = (data, len(data))
            if version.training_mode == "UPDATE":
                data = self._update_data(solution, data)
        count = len(data) if data is not None else 0
        recipe = borrowed.recipe_name(solution.recipe_arn)
        seconds = store.durations.training(recipe, count, solution.perform_hpo, version.arn)
        if store.faults.training_hang(solution.name, version.version_name):
            return  # never finishes: stays CREATE IN_PROGRESS until stopped
        injected = store.faults.training_failure(solution.name, version.version_name)
        if injected:
            store.schedule(at + seconds / 2, "failed", version, injected)
            return
        if data is None or count == 0:
            store.schedule(at + store.durations.of("import_failure", version.arn), "failed", version,
                           "There is no data in the Interactions dataset of dataset group "
                           f"{solution.dataset_group_arn}. Import interactions before training.")
            return
        short = training_minimums(data, solution.event_type)
        if short:
            store.schedule(at + seconds / 4, "failed", version, short)
            return
        from local.emulator.personalize.training import train

        items = datasets.get("items")
        users = datasets.get("users")
        config = dict(solution.solution_config or {})
        if solution.event_type:
            config.setdefault("eventType", solution.event_type)
        try:
            model = train(recipe, data, items.data if items else None, users.data if users else None,
                          config, seed=int(hashlib.sha256(version.arn.encode()).hexdigest()[:8], 16))
        except (ValueError, LookupError) as error:
            store.schedule(at + seconds / 4, "failed", version, str(error))
            return
        version.training_seconds = seconds
        version.trained_data = data
        store.schedule(at + seconds, "train_done", version, model)

    def _update_data(self, solution: Solution, current: Any) -> Any:
        """What an UPDATE trains on: the last ACTIVE version's interactions plus the ones new since
        ("An UPDATE processes only the data that has changed since the latest training",
        SolutionVersion.trainingMode): items the model knew stay, new items join, even when a FULL
        import replaced the dataset meanwhile. A row equal in every field to a known one is the same
        event ("If you record two ... events with exactly the same timestamp and identical properties,
        Amazon Personalize keeps only one of the events", import-data)."""
        store = self.store
        earlier = [v for v in store.all_of(SolutionVersion, lambda v: v.solution_arn == solution.arn
                                           and v.status == "ACTIVE" and v.trained_data is not None)]
        if not earlier:
            return current
        base = max(earlier, key=lambda v: v.created).trained_data
        combined = copy.deepcopy(base)
        known = set(combined)
        for row in current:
            if row not in known:
                known.add(row)
                combined.add(*row)
        return combined

    def _on_train_done(self, version: SolutionVersion, at: float, model: Any) -> None:
        version.model = model
        self.store.set_status(version, "ACTIVE", at)

    def op_DescribeSolutionVersion(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        version = self.store.find(SolutionVersion, p.get("solutionVersionArn"))
        solution = self.store.resources[version.solution_arn]
        assert isinstance(solution, Solution)
        return {"solutionVersion": version.describe(solution)}

    def op_ListSolutionVersions(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        sol = p.get("solutionArn")
        if sol is not None:
            store.find(Solution, sol)
        found = store.listed(SolutionVersion, ctx, lambda v: sol is None or v.solution_arn == sol)
        return store.page([v.summary() for v in found], p, "solutionVersions")

    def op_StopSolutionVersionCreation(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        version = store.find(SolutionVersion, p.get("solutionVersionArn"))
        if version.status not in ("CREATE PENDING", "CREATE IN_PROGRESS"):
            raise invalid(f"Solution version {version.arn} is {version.status}; only a solution version in "
                          "CREATE PENDING or CREATE IN_PROGRESS can be stopped.")
        version.gen += 1
        now = store.now()
        store.set_status(version, "CREATE STOPPING", now)
        store.schedule(now + store.durations.of("stop_training", version.arn), "status", version,
                       "CREATE STOPPED")
        return {}

    def op_GetSolutionMetrics(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        version = self.store.find(SolutionVersion, p.get("solutionVersionArn"))
        if version.status != "ACTIVE" or version.model is None:
            raise in_use(f"Solution version {version.arn} is not in ACTIVE state (status: {version.status}).")
        metrics = {k: float(v) for k, v in version.model.metrics().items()}
        return {"solutionVersionArn": version.arn, "metrics": metrics}

    # ================================ recipes =================================================
    def op_ListRecipes(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        items = []
        for name in sorted(borrowed.recipes()):
            full = _recipe(name)
            items.append({k: full[k] for k in ("name", "recipeArn", "status", "creationDateTime",
                                                "lastUpdatedDateTime")})
        return self.store.page(items, p, "recipes")

    def op_DescribeRecipe(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        recipe_arn = str(p.get("recipeArn", ""))
        if not borrowed.is_recipe_arn(recipe_arn):
            raise not_found(f"Resource Arn {p.get('recipeArn')} does not exist.")
        return {"recipe": _recipe(borrowed.recipe_name(recipe_arn))}


def _recipe(name: str) -> dict[str, Any]:
    arn, family = borrowed.recipes()[name]
    return {"name": name, "recipeArn": arn, "status": "ACTIVE",
            "creationDateTime": RECIPE_CREATED, "lastUpdatedDateTime": RECIPE_CREATED,
            "algorithmArn": f"arn:aws:personalize:::algorithm/{name}",
            "recipeType": family.value, "description": f"{family.value} recipe"}


def training_minimums(data: Any, event_type: str | None) -> str | None:
    """Why the service would refuse to train on `data`, or None."""
    users = data.user_ids
    if event_type:
        users = [u for u, e in zip(users, data.event_types, strict=True) if e == event_type]
    counts = Counter(users)
    with_two = sum(1 for n in counts.values() if n >= 2)
    selection = f" of event type {event_type}" if event_type else ""
    needed = max(MIN_USERS_WITH_2, math.ceil(len(counts) * MIN_SHARE_WITH_2))
    if len(users) < MIN_TRAINING_INTERACTIONS or with_two < needed:
        return (f"Insufficient data for training: {len(users)} interactions{selection}, {with_two} of "
                f"{len(counts)} users with at least 2 interactions; training needs at least "
                f"{MIN_TRAINING_INTERACTIONS} interactions and {MIN_USERS_WITH_2} users (and 1% of all "
                "users) with at least 2 interactions each.")
    return None


def auto_training_days(config: dict[str, Any] | None) -> int:
    """Days between automatic trainings: autoTrainingConfig.schedulingExpression `rate(N days)`,
    N in 1..30, default 7 (API_AutoTrainingConfig)."""
    expression = ((config or {}).get("autoTrainingConfig") or {}).get("schedulingExpression")
    if expression is None:
        return 7
    match = re.fullmatch(r"rate\((\d+) days?\)", str(expression))
    if match is None or not 1 <= int(match.group(1)) <= 30:
        raise invalid(f"Invalid schedulingExpression {expression!r}: expected rate(N days), N from 1 to 30.")
    return int(match.group(1))
