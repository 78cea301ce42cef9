"""Promotion gate: a candidate may become champion only if it beats the naive recency baseline by a margin
and is not worse than the current champion, both scored on the candidate's own validation rows (and clears
absolute floors that only stop a model no better than chance). Judging changes nothing; the
``ml/champion`` asset acts on the decision."""

from dataclasses import dataclass, replace

import numpy as np
import polars as pl
from pydantic import BaseModel, Field

from ecom_assets.ml.dataset import KEYS, feature_matrix, load_training_set
from ecom_assets.ml.evaluation import evaluate
from ecom_assets.ml.registry import ModelRegistry
from ecom_assets.settings import get_settings
from ecom_assets.storage.lake import Lake
from ecom_assets.transforms.labels import LABEL

COMPARED_METRICS = ("roc_auc", "pr_auc")
BASELINE = "baseline_"


class GateThresholds(BaseModel):
    """The gate's rules; a field left unset takes its ``ECOM_GATE_*`` setting. The absolute floors only
    stop a model no better than chance: the bar that matters is the baseline, and then the champion."""

    roc_auc_floor: float | None = Field(
        None, description="Minimum validation ROC-AUC (ECOM_GATE_ROC_AUC_FLOOR)"
    )
    pr_auc_margin: float | None = Field(
        None, description="PR-AUC must exceed the validation base rate by this much (ECOM_GATE_PR_AUC_MARGIN)"
    )
    baseline_roc_auc_margin: float | None = Field(
        None,
        description="ROC-AUC above the recency baseline's (ECOM_GATE_BASELINE_ROC_AUC_MARGIN)",
    )
    baseline_pr_auc_margin: float | None = Field(
        None,
        description="PR-AUC above the recency baseline's (ECOM_GATE_BASELINE_PR_AUC_MARGIN)",
    )
    champion_tolerance: float | None = Field(
        None, description="How far below the champion ROC-AUC / PR-AUC may be (ECOM_GATE_CHAMPION_TOLERANCE)"
    )

    def resolved(self) -> dict[str, float]:
        settings = get_settings()
        return {
            name: getattr(settings, f"gate_{name}") if value is None else value
            for name, value in self.model_dump().items()
        }


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    reasons: list[str]
    candidate: dict[str, float]
    champion: dict[str, float] | None = None
    champion_version: str | None = None
    baseline: dict[str, float] | None = None


def _floors(candidate: dict[str, float], rules: dict[str, float]) -> list[str]:
    failures = []
    if candidate["roc_auc"] < rules["roc_auc_floor"]:
        failures.append(f"ROC-AUC {candidate['roc_auc']:.3f} is below the floor {rules['roc_auc_floor']:.3f}")
    if candidate["pr_auc"] < candidate["base_rate"] + rules["pr_auc_margin"]:
        failures.append(
            f"PR-AUC {candidate['pr_auc']:.3f} is below base rate {candidate['base_rate']:.3f} "
            f"+ margin {rules['pr_auc_margin']:.3f}"
        )
    return failures


def _against_baseline(
    candidate: dict[str, float], baseline: dict[str, float], rules: dict[str, float]
) -> list[str]:
    return [
        f"{metric} {candidate[metric]:.3f} does not beat the recency baseline's {baseline[metric]:.3f} "
        f"by the margin {rules[f'baseline_{metric}_margin']:.3f} on the same validation rows"
        for metric in COMPARED_METRICS
        if candidate[metric] < baseline[metric] + rules[f"baseline_{metric}_margin"]
    ]


def _against_champion(candidate: dict[str, float], champion: dict[str, float], tolerance: float) -> list[str]:
    allowed = f" (tolerance {tolerance:.3f})" if tolerance else ""
    return [
        f"{metric} {candidate[metric]:.3f} is worse than the champion's {champion[metric]:.3f}{allowed} "
        "on the same validation rows"
        for metric in COMPARED_METRICS
        if candidate[metric] < champion[metric] - tolerance
    ]


def decide(
    candidate: dict[str, float],
    champion: dict[str, float] | None,
    thresholds: GateThresholds,
    baseline: dict[str, float] | None = None,
) -> GateDecision:
    """Pure decision on metrics computed on the same rows; every failed rule is one reason.

    Every candidate must beat the recency baseline by its margins; with a champion, it must also be
    within ``champion_tolerance`` of it.
    """
    rules = thresholds.resolved()
    failures = _floors(candidate, rules)
    if baseline is not None:
        failures += _against_baseline(candidate, baseline, rules)
    if champion is not None:
        failures += _against_champion(candidate, champion, rules["champion_tolerance"])
    if failures:
        return GateDecision(False, failures, candidate, champion, baseline=baseline)
    beats = "clears the floors" + (" and beats the recency baseline" if baseline is not None else "")
    passed = beats + (" and is not worse than the champion" if champion else "; no champion yet")
    return GateDecision(True, [passed], candidate, champion, baseline=baseline)


def baseline_of(metrics: dict[str, float]) -> dict[str, float] | None:
    """The recency baseline's metrics on a version's validation rows, as training recorded them."""
    baseline = {
        name.removeprefix(BASELINE): value for name, value in metrics.items() if name.startswith(BASELINE)
    }
    return baseline or None


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
    baseline = baseline_of(registry.manifest(version).metrics)
    return replace(decide(candidate, champion, thresholds, baseline), champion_version=champion_version)
