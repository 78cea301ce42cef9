"""The promotion gate on ``ml/propensity_model``: promote the candidate atomically, or keep the champion."""

import dagster as dg

from ecom_assets.assets.ml import PROPENSITY_MODEL
from ecom_assets.ml.gate import GateThresholds, run_gate
from ecom_assets.resources.lake import LakeResource


class PromotionGateConfig(GateThresholds, dg.Config):
    """Thresholds of the gate (see ``GateThresholds``), settable per run in the launchpad."""


def _candidate_version(context: dg.AssetCheckExecutionContext) -> str:
    event = context.instance.get_latest_materialization_event(PROPENSITY_MODEL)
    if event is None or "model_version" not in event.asset_materialization.metadata:
        raise dg.Failure("no candidate to gate: materialise ml/propensity_model first")
    return event.asset_materialization.metadata["model_version"].value


@dg.asset_check(asset=PROPENSITY_MODEL, name="promotion_gate", blocking=True)
def promotion_gate(
    context: dg.AssetCheckExecutionContext, config: PromotionGateConfig, lake: LakeResource
) -> dg.AssetCheckResult:
    """Champion only if ROC-AUC and PR-AUC clear their floors and are not worse than the champion's on the
    candidate's validation rows; a failed gate leaves the champion pointer untouched."""
    version = _candidate_version(context)
    decision = run_gate(lake.get_lake(), version, GateThresholds(**config.model_dump()))
    metrics = {f"candidate_{name}": value for name, value in decision.candidate.items()}
    metrics |= {f"champion_{name}": value for name, value in (decision.champion or {}).items()}
    return dg.AssetCheckResult(
        passed=decision.promote,
        description="; ".join(decision.reasons),
        metadata={
            "candidate_version": version,
            "champion_before": decision.champion_version or "none",
            "promoted": decision.promote,
            "reasons": "\n".join(decision.reasons),
            **metrics,
        },
    )
