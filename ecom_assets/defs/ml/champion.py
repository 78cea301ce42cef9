"""``ml/champion``: the promotion decision as an asset. The only writer of the champion pointer."""

import datetime as dt

import dagster as dg
import polars as pl

from ecom_assets.defs.metadata import markdown_table
from ecom_assets.defs.resources import LakeResource
from ecom_assets.defs.tables import asset_key
from ecom_assets.keys import CHAMPION, FACT_EVENTS, PROPENSITY_MODEL
from ecom_assets.ml.evidence import EvidenceRules, gather_evidence, role_for_candidate
from ecom_assets.ml.gate import COMPARED_METRICS, GateDecision, GateThresholds, judge
from ecom_assets.ml.registry import CHALLENGER_ROLE, ModelRegistry
from ecom_assets.storage.lake import Lake


class PromotionConfig(GateThresholds, EvidenceRules, dg.Config):
    """Rules of the gate (see ``GateThresholds``; unset ones take their ``ECOM_GATE_*`` setting) and the
    challenger's rules (see ``EvidenceRules``), settable per run in the launchpad."""


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


def _outcomes_through(context: dg.AssetExecutionContext) -> dt.date | None:
    """The last event date materialised: outcomes of a scoring day D are known once D+7 is."""
    partitions = context.instance.get_materialized_partitions(asset_key(FACT_EVENTS))
    return dt.date.fromisoformat(max(partitions)) if partitions else None


def settle_challenger(context: dg.AssetExecutionContext, lake: Lake, rules: EvidenceRules) -> dict:
    """Promote the challenger when its realised outcomes beat the champion's on the same customers; the
    metadata that tells the evidence, empty without a challenger."""
    registry = ModelRegistry(lake)
    champion_version, challenger = registry.champion_version(), registry.version_in(CHALLENGER_ROLE)
    outcomes_through = _outcomes_through(context)
    if champion_version is None or challenger is None or outcomes_through is None:
        return {}
    evidence = gather_evidence(lake, champion_version, challenger, outcomes_through, rules)
    if evidence.promote:
        registry.promote(challenger, reason=f"promoted on evidence: {evidence.reason}")
        registry.clear(CHALLENGER_ROLE)
    context.log.info(f"challenger {challenger}: {evidence.reason}")
    return {
        "evidence_decision": f"promoted challenger {challenger}"
        if evidence.promote
        else f"kept {champion_version}",
        "evidence": evidence.reason,
        "evidence_table": markdown_table(evidence.table, max_rows=evidence.table.height or 1),
    }


def _serving_metadata(registry: ModelRegistry) -> dict:
    return {
        "champion": registry.champion_version() or "none",
        "challenger": registry.version_in(CHALLENGER_ROLE) or "none",
    }


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
    """Which model versions serve, and why: first the challenger's realised evidence against the champion
    (promoted only when it is significantly better on the same customers), then the gate's decision on
    this run's candidate against the champion on the same rows: promoted, challenger (close to the
    champion, or every candidate when shadowing is on) or rejected. Keeping the champion is a normal
    outcome, recorded with its reasons."""
    lake = lake_resource.get_lake()
    registry = ModelRegistry(lake)
    evidence = settle_challenger(context, lake, config)
    candidate = candidate_of_this_run(context, registry)
    if candidate in (registry.champion_version(), registry.version_in(CHALLENGER_ROLE)):
        # Already serving: the gate admitted it once, and from now on only evidence decides.
        outcome = evidence.get("evidence_decision") or f"kept {registry.champion_version()}"
        metadata = {"decision": outcome, "candidate_version": candidate, **_serving_metadata(registry)}
        return dg.MaterializeResult(metadata={**metadata, **evidence})
    decision = judge(lake, candidate, GateThresholds(**config.model_dump()))
    before = decision.champion_version
    role, why = role_for_candidate(decision.promote, decision.candidate, decision.champion, config)
    reasons = [*decision.reasons, *([why] if why else [])]
    if role == "promote":
        registry.promote(candidate, reason="; ".join(reasons))
    elif role == "challenger":
        registry.assign(CHALLENGER_ROLE, candidate, reason="; ".join(reasons))
    after = candidate if role == "promote" else before
    outcome = {
        "promote": f"promoted {candidate}",
        "challenger": f"kept {before}, {candidate} serves as challenger",
        "reject": f"kept {before or 'no champion'}",
    }[role]
    context.log.info(f"{outcome}: {'; '.join(reasons)}")
    return dg.MaterializeResult(
        metadata={
            "decision": outcome,
            "candidate_version": candidate,
            "champion_before": before or "none",
            "champion_after": after or "none",
            "promoted": role == "promote",
            "reasons": dg.MetadataValue.md("\n".join(f"- {reason}" for reason in reasons)),
            "metrics_on_candidate_validation_rows": markdown_table(side_by_side(decision), max_rows=20),
            **_serving_metadata(registry),
            **evidence,
        }
    )
