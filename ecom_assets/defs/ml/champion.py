"""``ml/champion``: the promotion decision as an asset. The only writer of the champion pointer."""

import dagster as dg
import polars as pl

from ecom_assets.defs.metadata import markdown_table
from ecom_assets.defs.resources import LakeResource
from ecom_assets.defs.tables import asset_key
from ecom_assets.keys import CHAMPION, PROPENSITY_MODEL
from ecom_assets.ml.gate import COMPARED_METRICS, GateDecision, GateThresholds, judge
from ecom_assets.ml.registry import ModelRegistry


class PromotionConfig(GateThresholds, dg.Config):
    """Rules of the gate (see ``GateThresholds``), settable per run in the launchpad; unset ones take their
    ``ECOM_GATE_*`` setting."""


def candidate_of_this_run(context: dg.AssetExecutionContext, registry: ModelRegistry) -> str:
    """The version ``ml/propensity_model`` registered in this run; in a run without it (promotion re-run
    alone), the newest registered version. Never "the latest materialisation in the instance", which
    another retraining running at the same time may have just replaced."""
    records = context.instance.all_logs(context.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    for record in records:
        materialization = record.asset_materialization
        if materialization and materialization.asset_key == asset_key(PROPENSITY_MODEL):
            return materialization.metadata["model_version"].value
    versions = registry.versions()
    if not versions:
        raise dg.Failure(f"no candidate to judge: materialise {PROPENSITY_MODEL} first")
    return versions[-1]


def side_by_side(decision: GateDecision) -> pl.DataFrame:
    """Candidate, champion and recency baseline on the candidate's validation rows, one row per metric."""
    names = [*COMPARED_METRICS, *(name for name in decision.candidate if name not in COMPARED_METRICS)]

    def column(metrics: dict[str, float] | None) -> list[float | None]:
        metrics = metrics or {}
        return [round(metrics[name], 4) if name in metrics else None for name in names]

    return pl.DataFrame(
        {
            "metric": names,
            "candidate": column(decision.candidate),
            "champion": column(decision.champion),
            "baseline": column(decision.baseline),
        },
        schema={"metric": pl.String, "candidate": pl.Float64, "champion": pl.Float64, "baseline": pl.Float64},
    )


@dg.asset(key=asset_key(CHAMPION), deps=[asset_key(PROPENSITY_MODEL)], group_name="ml", kinds={"scikitlearn"})
def champion(
    context: dg.AssetExecutionContext, config: PromotionConfig, lake_resource: LakeResource
) -> dg.MaterializeResult:
    """Which model version serves, and why: the gate's decision on this run's candidate against the current
    champion on the same rows. Keeping the champion is a normal outcome, recorded with its reasons."""
    registry = ModelRegistry(lake_resource.get_lake())
    candidate = candidate_of_this_run(context, registry)
    decision = judge(lake_resource.get_lake(), candidate, GateThresholds(**config.model_dump()))
    before = decision.champion_version
    if decision.promote:
        registry.promote(candidate, reason="; ".join(decision.reasons))
    after = candidate if decision.promote else before
    outcome = f"promoted {candidate}" if decision.promote else f"kept {before or 'no champion'}"
    context.log.info(f"{outcome}: {'; '.join(decision.reasons)}")
    return dg.MaterializeResult(
        metadata={
            "decision": outcome,
            "candidate_version": candidate,
            "champion_before": before or "none",
            "champion_after": after or "none",
            "promoted": decision.promote,
            "reasons": dg.MetadataValue.md("\n".join(f"- {reason}" for reason in decision.reasons)),
            "metrics_on_candidate_validation_rows": markdown_table(side_by_side(decision), max_rows=20),
        }
    )
