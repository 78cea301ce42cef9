"""Promotion on evidence: which candidates serve as challenger, and when a challenger's realised outcomes
justify replacing the champion.

The evidence is paired: only customers both models scored on the same day count, and each bootstrap
resample draws customers once and scores them with both, so the interval is of the ROC-AUC difference
itself. A challenger is promoted only when that 95% interval lies above zero; a tie keeps the champion.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, Field

from ecom_assets.ml.bootstrap import DEFAULT_RESAMPLES, paired_difference_interval, roc_auc_of
from ecom_assets.ml.realised import outcome_events, scored_on, with_outcomes
from ecom_assets.storage.lake import Lake
from ecom_assets.transforms.labels import LABEL, LABEL_HORIZON_DAYS

PAIR_KEYS = ["customer_id", "as_of_date", "source"]
Role = Literal["promote", "challenger", "reject"]


class EvidenceRules(BaseModel):
    challenger_margin: float = Field(
        0.01,
        ge=0,
        description="A candidate the gate does not promote serves as challenger when its validation ROC-AUC "
        "is at most this far below the champion's on the same rows",
    )
    shadow_new_candidates: bool = Field(
        False, description="Candidates that clear the gate serve as challenger first; only evidence promotes"
    )
    evidence_days: int = Field(
        7,
        ge=1,
        description="Scoring days with known outcomes over which challenger and champion are compared",
    )
    evidence_resamples: int = Field(
        DEFAULT_RESAMPLES, ge=100, description="Bootstrap resamples of the paired ROC-AUC difference"
    )


def role_for_candidate(
    promote: bool, candidate: dict[str, float], champion: dict[str, float] | None, rules: EvidenceRules
) -> tuple[Role, str]:
    """What the gate's verdict means for serving, and why when it is not the gate's own reason.

    A candidate close to the champion on the same rows is as safe to serve beside it as the champion
    itself, whatever floor it missed, so closeness alone admits it as challenger.
    """
    if champion is None or (promote and not rules.shadow_new_candidates):
        return ("promote" if promote else "reject"), ""
    if promote:
        return (
            "challenger",
            "cleared the gate; new candidates serve as challenger until evidence promotes them",
        )
    gap = champion["roc_auc"] - candidate["roc_auc"]
    if gap <= rules.challenger_margin:
        return "challenger", (
            f"not promoted, but its ROC-AUC {candidate['roc_auc']:.3f} is within "
            f"{rules.challenger_margin:.3f} of the champion's {champion['roc_auc']:.3f}: it serves as "
            "challenger"
        )
    return "reject", ""


def paired_scores(scored: pl.DataFrame, champion_version: str, challenger_version: str) -> pl.DataFrame:
    """Customers scored by both versions on the same day and through the same source, side by side."""

    def scores_of(version: str, name: str) -> pl.DataFrame:
        rows = scored.filter(pl.col("model_version") == version)
        return rows.unique(PAIR_KEYS, keep="last").select(*PAIR_KEYS, pl.col("score").alias(name))

    return scores_of(champion_version, "champion_score").join(
        scores_of(challenger_version, "challenger_score"), on=PAIR_KEYS, how="inner"
    )


@dataclass(frozen=True)
class Evidence:
    promote: bool
    reason: str
    table: pl.DataFrame  # one row per day, then the pooled row the decision is taken on


def _comparison(label: str, rows: pl.DataFrame, resamples: int, seed: int) -> dict:
    labels = rows[LABEL].to_numpy().astype(np.float64)
    champion, challenger = rows["champion_score"].to_numpy(), rows["challenger_score"].to_numpy()
    low, high = paired_difference_interval(
        labels, champion, challenger, resamples, np.random.default_rng(seed)
    )
    champion_auc, challenger_auc = (float(roc_auc_of(labels, scores)) for scores in (champion, challenger))
    return {
        "days": label,
        "customers": rows.height,
        "positives": int(labels.sum()),
        "champion_roc_auc": round(champion_auc, 4),
        "challenger_roc_auc": round(challenger_auc, 4),
        "difference": round(challenger_auc - champion_auc, 4),
        "difference_low": None if low is None else round(low, 4),
        "difference_high": None if high is None else round(high, 4),
    }


def weigh(paired_with_outcomes: pl.DataFrame, rules: EvidenceRules, seed: int = 0) -> Evidence:
    """Decide on the last ``evidence_days`` scoring days of paired rows with their outcomes."""
    days = sorted(set(paired_with_outcomes["as_of_date"]))[-rules.evidence_days :]
    rows = paired_with_outcomes.filter(pl.col("as_of_date").is_in(days))
    table = pl.DataFrame(
        [
            *(
                _comparison(
                    day.isoformat(), rows.filter(pl.col("as_of_date") == day), rules.evidence_resamples, seed
                )
                for day in days
            ),
            *([_comparison(f"all {len(days)}", rows, rules.evidence_resamples, seed)] if days else []),
        ]
    )
    if len(days) < rules.evidence_days:
        return Evidence(
            False,
            f"waiting for evidence: {len(days)} of {rules.evidence_days} days scored by "
            "both models have known outcomes",
            table,
        )
    pooled = table.row(-1, named=True)
    low, high = pooled["difference_low"], pooled["difference_high"]
    summary = (
        f"challenger ROC-AUC {pooled['challenger_roc_auc']:.3f} vs champion {pooled['champion_roc_auc']:.3f} "
        f"on the same {pooled['customers']:,} customer-days, difference {pooled['difference']:+.3f} "
        f"(95% interval {low:+.3f} .. {high:+.3f})"
    )
    if low is not None and low > 0:
        return Evidence(True, f"{summary}: the challenger is better", table)
    verdict = "the champion is better" if high is not None and high < 0 else "no significant difference"
    return Evidence(False, f"{summary}: {verdict}, the champion stays", table)


def gather_evidence(
    lake: Lake,
    champion_version: str,
    challenger_version: str,
    outcomes_through: dt.date,
    rules: EvidenceRules,
) -> Evidence:
    """Weigh the challenger on the latest scoring days whose seven days of outcomes have landed
    (``outcomes_through`` is the last event date known to be complete)."""
    last_day = outcomes_through - dt.timedelta(days=LABEL_HORIZON_DAYS)
    scored = scored_on(lake, [champion_version, challenger_version], through=last_day)
    paired = paired_scores(scored, champion_version, challenger_version)
    days = sorted(set(paired["as_of_date"]))[-rules.evidence_days :]
    paired = paired.filter(pl.col("as_of_date").is_in(days))
    return weigh(with_outcomes(paired, outcome_events(lake, days)), rules)
