"""Decay: the champion's realised ROC-AUC has stayed below what its validation promised for days on end."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from ecom_assets.ml.realised import daily_roc_auc


@dataclass(frozen=True)
class DecayVerdict:
    decayed: bool
    reason: str
    last_day: dt.date | None = None


def decay_of(performance: pl.DataFrame, version: str, margin: float, days: int) -> DecayVerdict:
    """Decayed when each of the last ``days`` consecutive scoring days after the validation window has a
    realised ROC-AUC more than ``margin`` below the validation ROC-AUC the version was promoted with."""
    measured = daily_roc_auc(performance).filter(
        (pl.col("model_version") == version)
        & pl.col("out_of_time")
        & pl.col("validation_roc_auc").is_not_null()
    )
    if measured.height == 0:
        return DecayVerdict(False, f"no realised ROC-AUC of {version} after its validation window yet")
    promised = measured["validation_roc_auc"][0]
    floor = promised - margin
    streak: list[tuple[dt.date, float]] = []
    for day, value in reversed(list(zip(measured["as_of_date"], measured["roc_auc"], strict=True))):
        if value >= floor or (streak and streak[-1][0] - day != dt.timedelta(days=1)):
            break
        streak.append((day, value))
    last_day = measured["as_of_date"][-1]
    figures = ", ".join(f"{day}: {value:.3f}" for day, value in reversed(streak))
    if len(streak) >= days:
        return DecayVerdict(
            True,
            f"realised ROC-AUC of {version} below its validation {promised:.3f} - margin {margin:.3f} "
            f"= {floor:.3f} on {len(streak)} consecutive days ({figures})",
            last_day,
        )
    return DecayVerdict(
        False,
        f"realised ROC-AUC of {version} on {last_day}: {measured['roc_auc'][-1]:.3f}, "
        f"{len(streak)} of {days} consecutive days below {floor:.3f} "
        f"(validation {promised:.3f} - margin {margin:.3f})",
        last_day,
    )
