"""Promotion gate: a candidate may become champion only if it clears absolute floors and is not worse than
the current champion scored on the candidate's own validation rows. Judging changes nothing; the
``ml/champion`` asset acts on the decision."""

from dataclasses import dataclass, replace

import numpy as np
import polars as pl
from pydantic import BaseModel, Field

from ecom_assets.ml.dataset import KEYS, feature_matrix, load_training_set
from ecom_assets.ml.evaluation import evaluate
from ecom_assets.ml.registry import ModelRegistry
from ecom_assets.storage.lake import Lake
from ecom_assets.transforms.labels import LABEL

COMPARED_METRICS = ("roc_auc", "pr_auc")


class GateThresholds(BaseModel):
    roc_auc_floor: float = Field(0.70, description="Minimum validation ROC-AUC")
    pr_auc_margin: float = Field(0.02, description="PR-AUC must exceed the validation base rate by this much")
    champion_tolerance: float = Field(0.0, description="How far below the champion ROC-AUC / PR-AUC may be")


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    reasons: list[str]
    candidate: dict[str, float]
    champion: dict[str, float] | None = None
    champion_version: str | None = None


def decide(
    candidate: dict[str, float], champion: dict[str, float] | None, thresholds: GateThresholds
) -> GateDecision:
    """Pure decision on metrics computed on the same rows; every failed rule is one reason."""
    failures = []
    if candidate["roc_auc"] < thresholds.roc_auc_floor:
        failures.append(
            f"ROC-AUC {candidate['roc_auc']:.3f} is below the floor {thresholds.roc_auc_floor:.3f}"
        )
    pr_floor = candidate["base_rate"] + thresholds.pr_auc_margin
    if candidate["pr_auc"] < pr_floor:
        failures.append(
            f"PR-AUC {candidate['pr_auc']:.3f} is below base rate {candidate['base_rate']:.3f} "
            f"+ margin {thresholds.pr_auc_margin:.3f}"
        )
    for metric in COMPARED_METRICS if champion else ():
        if candidate[metric] < champion[metric] - thresholds.champion_tolerance:
            failures.append(
                f"{metric} {candidate[metric]:.3f} is worse than the champion's {champion[metric]:.3f} "
                "on the same validation rows"
            )
    if failures:
        return GateDecision(False, failures, candidate, champion)
    passed = "clears the floors" + (
        " and is not worse than the champion" if champion else "; no champion yet"
    )
    return GateDecision(True, [passed], candidate, champion)


def _validation_rows(lake: Lake, registry: ModelRegistry, version: str) -> pl.DataFrame:
    keys = registry.validation_set(version)
    if "customer_id" not in keys.columns:
        raise ValueError(f"model version {version} was registered without validation keys: retrain it")
    dates = sorted(set(keys["as_of_date"]))
    return load_training_set(lake, dates).join(keys.select(KEYS), on=KEYS, how="inner")


def _score(registry: ModelRegistry, version: str, rows: pl.DataFrame) -> np.ndarray:
    loaded = registry.load(version)
    return loaded.model.predict_proba(feature_matrix(rows, loaded.manifest.feature_names))[:, 1]


def judge(lake: Lake, version: str, thresholds: GateThresholds) -> GateDecision:
    """Score candidate and champion on the candidate's validation rows and decide; nothing is written."""
    registry = ModelRegistry(lake)
    rows = _validation_rows(lake, registry, version)
    labels = rows[LABEL].to_numpy()
    candidate = evaluate(labels, _score(registry, version, rows))
    champion_version = registry.champion_version()
    champion = None
    if champion_version not in (None, version):
        champion = evaluate(labels, _score(registry, champion_version, rows))
    return replace(decide(candidate, champion, thresholds), champion_version=champion_version)
