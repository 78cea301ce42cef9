"""The challenger's life: admitted beside the champion, promoted on paired evidence (never on a tie), and
the decay sensor that retrains a champion whose realised ROC-AUC stays below its promise."""

import datetime as dt

import dagster as dg
import numpy as np
import polars as pl
import pytest
from sklearn.linear_model import LogisticRegression

from ecom_assets.defs.ml import champion
from ecom_assets.defs.monitoring.retraining import RetrainCursor
from ecom_assets.defs.monitoring.sensors import build_decay_retrain_sensor
from ecom_assets.defs.resources import LakeResource, build_resources
from ecom_assets.ml.batch_scores import score_by_serving_models
from ecom_assets.ml.decay import decay_of
from ecom_assets.ml.evidence import EvidenceRules, role_for_candidate, weigh
from ecom_assets.ml.registry import ModelRegistry
from ecom_assets.transforms.labels import LABEL, build_label_purchase_next_7d
from ecom_assets_tests.fact_events_factory import shop_history, write_fact_events

DAY = dt.date(2026, 9, 10)
SCORING_DAYS = [DAY + dt.timedelta(days=offset) for offset in range(3)]


@pytest.fixture
def instance():
    with dg.instance_for_test() as test_instance:
        yield test_instance


def register(registry: ModelRegistry, hour: int, roc_auc: float = 0.8) -> str:
    rng = np.random.default_rng(hour)
    features = rng.normal(size=(40, 2))
    model = LogisticRegression().fit(features, (features[:, 0] > 0).astype(int))
    return registry.register(
        model,
        training_window=(dt.date(2026, 8, 1), dt.date(2026, 8, 31)),
        validation_window=(dt.date(2026, 9, 1), dt.date(2026, 9, 3)),
        feature_names=["a", "b"],
        metrics={"roc_auc": roc_auc},
        split="time",
        data_fingerprint="test",
        reference_features=pl.DataFrame(features, schema=["a", "b"]),
        validation_scores=model.predict_proba(features)[:, 1],
        trained_at=dt.datetime(2026, 9, 5, hour, tzinfo=dt.UTC),
    ).version


# -- who becomes challenger -----------------------------------------------------------------------


def test_a_candidate_close_to_the_champion_becomes_challenger_a_far_one_does_not():
    rules = EvidenceRules(challenger_margin=0.02)
    champion_metrics = {"roc_auc": 0.80}
    assert role_for_candidate(False, {"roc_auc": 0.79}, champion_metrics, rules)[0] == "challenger"
    assert role_for_candidate(False, {"roc_auc": 0.75}, champion_metrics, rules) == ("reject", "")
    assert role_for_candidate(True, {"roc_auc": 0.85}, champion_metrics, rules) == ("promote", "")
    assert role_for_candidate(True, {"roc_auc": 0.85}, None, rules) == ("promote", "")
    shadowing = EvidenceRules(shadow_new_candidates=True)
    role, why = role_for_candidate(True, {"roc_auc": 0.85}, champion_metrics, shadowing)
    assert role == "challenger" and "until evidence promotes them" in why
    assert role_for_candidate(True, {"roc_auc": 0.85}, None, shadowing)[0] == "promote", "nothing to shadow"


def test_batch_scores_carry_the_challengers_scores_beside_the_champions(lake):
    registry = ModelRegistry(lake)
    champion_version, challenger_version = register(registry, 1), register(registry, 2)
    registry.promote(champion_version)
    features = pl.DataFrame(
        {"customer_id": ["c1", "c2"], "as_of_date": [DAY] * 2, "a": [0.0, 1.0], "b": [1.0, 0.0]}
    )
    assert score_by_serving_models(features, registry)["arm"].to_list() == ["champion"] * 2
    registry.assign("challenger", challenger_version)
    scores = score_by_serving_models(features, registry)
    assert scores.select("arm", "model_version").unique(maintain_order=True).rows() == [
        ("champion", champion_version),
        ("challenger", challenger_version),
    ]
    assert (
        scores.group_by("arm").agg(pl.col("customer_id").sort())["customer_id"].to_list()
        == [["c1", "c2"]] * 2
    )


def test_evidence_waits_for_enough_days():
    labels = np.array([0, 1] * 50)
    paired = pl.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(100)],
            "as_of_date": DAY,
            "source": "batch",
            "champion_score": np.linspace(0, 1, 100),
            "challenger_score": labels * 0.5,
            LABEL: labels,
        }
    )
    evidence = weigh(paired, EvidenceRules(evidence_days=2, evidence_resamples=100))
    assert not evidence.promote and "waiting for evidence: 1 of 2 days" in evidence.reason


# -- promotion on evidence through ml/champion ----------------------------------------------------


def _shadow_period(lake, instance, challenger_knows: bool) -> tuple[str, str]:
    """A champion and a challenger that both scored the same customers on three days whose outcomes
    have landed; the challenger's scores carry the outcome when ``challenger_knows``, else it scores
    exactly like the champion."""
    registry = ModelRegistry(lake)
    champion_version, challenger_version = register(registry, 1), register(registry, 2)
    registry.promote(champion_version)
    registry.assign("challenger", challenger_version)
    events = shop_history(500, 12, DAY - dt.timedelta(days=2), seed=4)
    write_fact_events(lake, events, instance)
    rng = np.random.default_rng(0)
    scores = []
    for day in SCORING_DAYS:
        customers = (
            events.filter(pl.col("event_date") <= day).select("customer_id").unique().sort("customer_id")
        )
        labels = build_label_purchase_next_7d(customers.with_columns(as_of_date=pl.lit(day)), events)
        guess = rng.random(labels.height)
        knows = labels[LABEL].to_numpy() * 0.4 + rng.random(labels.height) * 0.6
        for version, arm, values in (
            (champion_version, "champion", guess),
            (challenger_version, "challenger", knows if challenger_knows else guess),
        ):
            scores.append(
                labels.select("customer_id", "as_of_date").with_columns(
                    score=pl.Series(values),
                    decile=pl.lit(1, pl.Int8),
                    model_version=pl.lit(version),
                    arm=pl.lit(arm),
                )
            )
    lake.write_table("ml/batch_scores", pl.concat(scores), "as_of_date", SCORING_DAYS)
    return champion_version, challenger_version


def _judge(lake, instance) -> dict:
    result = dg.materialize(
        [champion.champion, dg.AssetSpec(["ml", "propensity_model"])],
        selection=[dg.AssetKey(["ml", "champion"])],
        resources=build_resources(lake.uri),
        instance=instance,
        run_config={"ops": {"ml__champion": {"config": {"evidence_days": 3, "evidence_resamples": 300}}}},
    )
    event = result.asset_materializations_for_node("ml__champion")[-1]
    return {key: value.value for key, value in event.metadata.items()}


def test_a_challenger_that_is_clearly_better_on_the_same_customers_is_promoted(lake, instance):
    champion_version, challenger_version = _shadow_period(lake, instance, challenger_knows=True)
    metadata = _judge(lake, instance)
    registry = ModelRegistry(lake)
    assert registry.champion_version() == challenger_version and registry.version_in("challenger") is None
    assert metadata["evidence_decision"] == f"promoted challenger {challenger_version}"
    assert "the challenger is better" in metadata["evidence"]
    table = metadata["evidence_table"]
    assert all(f"| {day} |" in table for day in SCORING_DAYS) and "| all 3 |" in table
    assert "promoted on evidence" in lake.read_bytes("ml/registry/propensity_model/champion.json").decode()


def test_a_tie_keeps_the_champion_and_the_challenger(lake, instance):
    champion_version, challenger_version = _shadow_period(lake, instance, challenger_knows=False)
    metadata = _judge(lake, instance)
    registry = ModelRegistry(lake)
    assert registry.champion_version() == champion_version
    assert registry.version_in("challenger") == challenger_version
    assert metadata["evidence_decision"] == f"kept {champion_version}"
    assert "difference +0.000" in metadata["evidence"] and "no significant difference" in metadata["evidence"]


# -- decay ----------------------------------------------------------------------------------------


def _performance(lake, instance, version: str, realised: list[float], first: dt.date = DAY) -> None:
    """Realised ROC-AUC of ``version`` on consecutive days from ``first``, as materialised partitions."""
    days = [first + dt.timedelta(days=offset) for offset in range(len(realised))]
    table = pl.DataFrame(
        {
            "as_of_date": days,
            "source": "batch",
            "model_version": version,
            "arm": "champion",
            "roc_auc": realised,
            "validation_roc_auc": 0.8,
            "validation_roc_auc_low": 0.75,
            "validation_roc_auc_high": 0.85,
            "out_of_time": True,
        }
    )
    lake.write_table("monitoring/model_performance", table, "as_of_date", days)
    for day in days:
        instance.report_runless_asset_event(
            dg.AssetMaterialization(["monitoring", "model_performance"], partition=day.isoformat())
        )


def _tick(sensor: dg.SensorDefinition, lake, instance, cursor: str | None):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"lake_resource": LakeResource(uri=lake.uri)}
    )
    result = sensor(context)
    skip = result.skip_reason.skip_message if result.skip_reason else None
    return list(result.run_requests or []), skip, result.cursor


def test_decay_needs_consecutive_days_below_the_promise_minus_the_margin():
    def table(values: list[float], gap_after: int | None = None) -> pl.DataFrame:
        days = [
            DAY + dt.timedelta(days=i + (1 if gap_after is not None and i > gap_after else 0))
            for i in range(len(values))
        ]
        return pl.DataFrame(
            {
                "as_of_date": days,
                "source": "batch",
                "model_version": "v1",
                "roc_auc": values,
                "validation_roc_auc": 0.8,
                "validation_roc_auc_low": 0.75,
                "validation_roc_auc_high": 0.85,
                "out_of_time": True,
            }
        )

    assert decay_of(table([0.76, 0.76, 0.76]), "v1", margin=0.03, days=3).decayed
    assert not decay_of(table([0.78, 0.76, 0.76]), "v1", margin=0.03, days=3).decayed, "0.78 is within margin"
    assert not decay_of(table([0.76, 0.76, 0.76], gap_after=0), "v1", margin=0.03, days=3).decayed
    verdict = decay_of(table([0.76, 0.76]), "v1", margin=0.03, days=3)
    assert not verdict.decayed and "2 of 3 consecutive days below 0.770" in verdict.reason


def test_the_decay_sensor_requests_retraining_once_and_respects_the_cooldown(lake, instance):
    registry = ModelRegistry(lake)
    version = register(registry, 1)
    registry.promote(version)
    sensor = build_decay_retrain_sensor(margin=0.03, days=3, cooldown=dt.timedelta(hours=24))

    _performance(lake, instance, version, [0.79, 0.76])
    requests, skip, cursor = _tick(sensor, lake, instance, RetrainCursor().dumps())
    assert requests == [] and "1 of 3 consecutive days" in skip

    _performance(lake, instance, version, [0.79, 0.76, 0.75, 0.74])
    requests, skip, cursor = _tick(sensor, lake, instance, cursor)
    (request,) = requests
    last = DAY + dt.timedelta(days=3)
    assert request.run_key == f"decay-retrain-{version}@{last}"
    assert request.job_name in (None, "retrain_job") and request.tags["ecom/trigger"] == "decay"
    assert (
        "below its validation 0.800 - margin 0.030 = 0.770 on 3 consecutive days"
        in request.tags["ecom/decay"]
    )

    # The same decay reported again: no second request.
    _performance(lake, instance, version, [0.79, 0.76, 0.75, 0.74])
    requests, skip, cursor = _tick(sensor, lake, instance, cursor)
    assert requests == [] and "already triggered a retraining" in skip

    # A further decayed day within the cooldown waits, and says until when.
    _performance(lake, instance, version, [0.73], first=last + dt.timedelta(days=1))
    requests, skip, _ = _tick(sensor, lake, instance, cursor)
    assert requests == [] and "cooldown until" in skip
    without_cooldown = build_decay_retrain_sensor(margin=0.03, days=3, cooldown=dt.timedelta(0))
    requests, _, _ = _tick(without_cooldown, lake, instance, cursor)
    assert [request.run_key for request in requests] == [
        f"decay-retrain-{version}@{last + dt.timedelta(days=1)}"
    ]
