"""A challenger beside the champion, through the ASGI app in process: split by a stable hash, shadow
scores that never change an answer, and the log and metrics per arm."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import polars as pl
import pytest
from fastapi.testclient import TestClient

from ecom_assets.keys import PREDICTION_LOG
from ecom_assets.ml.registry import CHALLENGER_ROLE, ModelManifest
from ecom_assets.storage.lake import Lake
from ecom_assets.transforms.features import FEATURE_NAMES
from ecom_assets_tests.serving_support import register_model, wait_until, write_features
from serving.app import create_app
from serving.settings import ServingSettings

UNKNOWN_IDS = [f"new-{number}" for number in range(1700)]


@pytest.fixture(scope="module")
def lake_with_two_arms(tmp_path_factory) -> tuple[Lake, ModelManifest, ModelManifest]:
    lake = Lake(str(tmp_path_factory.mktemp("challenger") / "lake"))
    write_features(lake)
    champion = register_model(lake, seed=1)
    challenger = register_model(lake, seed=2, role=CHALLENGER_ROLE)
    return lake, champion, challenger


@contextmanager
def client(lake: Lake, mode: str, share: float = 0.0) -> Iterator[TestClient]:
    settings = ServingSettings(
        challenger_mode=mode,
        challenger_share=share,
        reload_interval_seconds=0.05,
        prediction_log_flush_seconds=3600,  # written once, when the app shuts down
    )
    with TestClient(create_app(settings, lake)) as test_client:
        wait_until(lambda: test_client.get("/ready").status_code == 200, what="the service to be ready")
        yield test_client


def _customer_ids(lake: Lake) -> list[str]:
    return lake.read_table("gold/customer_daily_features")["customer_id"].to_list()


def _batches(test_client: TestClient, ids: list[str]) -> list[dict]:
    answers = []
    for start in range(0, len(ids), 1000):
        response = test_client.post("/score/batch", json={"customer_ids": ids[start : start + 1000]})
        assert response.status_code == 200
        answers += response.json()
    return answers


def _log(lake: Lake) -> pl.DataFrame:
    return lake.read_table(PREDICTION_LOG) if lake.table_exists(PREDICTION_LOG) else pl.DataFrame()


def test_split_sends_a_stable_share_of_customers_to_the_challenger(lake_with_two_arms):
    lake, champion, challenger = lake_with_two_arms
    ids = _customer_ids(lake) + UNKNOWN_IDS
    with client(lake, "split", share=0.3) as test_client:
        answers = _batches(test_client, ids)
        arms = {answer["customer_id"]: answer["arm"] for answer in answers}
        share = sum(arm == "challenger" for arm in arms.values()) / len(arms)
        assert 0.26 < share < 0.34
        singles = [
            test_client.post("/score", json={"customer_id": customer_id}).json() for customer_id in ids[::50]
        ]
        assert [single["arm"] for single in singles] == [arms[customer_id] for customer_id in ids[::50]]
        again = _batches(test_client, ids)
        assert [answer["arm"] for answer in again] == list(arms.values())

        features = dict.fromkeys(FEATURE_NAMES, 1.0)
        by_features = test_client.post("/score", json={"features": features}).json()
        assert by_features["arm"] == "champion"  # no customer id, nothing to keep stable
        model = test_client.get("/model").json()
        metrics = test_client.get("/metrics").text

    everything = [*answers, *singles, *again, by_features]
    for answer in everything:
        expected = challenger if answer["arm"] == "challenger" else champion
        assert answer["model_version"] == expected.version
    assert (model["version"], model["challenger"]["version"]) == (champion.version, challenger.version)
    assert (model["challenger_mode"], model["challenger_share"]) == ("split", 0.3)
    assert f'ecom_model_info{{arm="challenger",version="{challenger.version}"}} 1.0' in metrics
    for arm in ("champion", "challenger"):
        answered = float(sum(answer["arm"] == arm for answer in everything))
        assert f'ecom_scores_total{{arm="{arm}",served="true"}} {answered}' in metrics
    logged = _log(lake).filter(pl.col("served"))
    for answer in singles:  # the log says which arm answered, as the answer did
        row = logged.filter(customer_id=answer["customer_id"])
        assert set(row["arm"]) == {answer["arm"]}


def test_shadow_scores_are_logged_but_never_change_an_answer(lake_with_two_arms):
    lake, champion, challenger = lake_with_two_arms
    ids = _customer_ids(lake)[:200] + UNKNOWN_IDS[:50]
    features = dict.fromkeys(FEATURE_NAMES, 2.0)

    def answers(mode: str) -> tuple[list[dict], dict, str]:
        with client(lake, mode) as test_client:
            batch = _batches(test_client, ids)
            single = test_client.post("/score", json={"customer_id": ids[0]}).json()
            by_features = test_client.post("/score", json={"features": features}).json()
            return (
                [*batch, single, by_features],
                test_client.get("/model").json(),
                test_client.get("/metrics").text,
            )

    started = dt.datetime.now(dt.UTC)
    plain, model_off, _ = answers("off")
    shadowed, model, metrics = answers("shadow")

    assert shadowed == plain
    assert {answer["arm"] for answer in shadowed} == {"champion"}
    assert model["challenger"]["version"] == challenger.version
    assert model_off["challenger"] is None  # with the mode off the challenger is not even loaded
    logged = _log(lake).filter(pl.col("logged_at") >= started)
    answered = len(plain)
    # off: one served row per answer; shadow: the same again, plus one unserved challenger row each
    assert logged.group_by("arm", "served").len().sort("arm").rows() == [
        ("challenger", False, answered),
        ("champion", True, 2 * answered),
    ]
    shadow_rows = logged.filter(pl.col("arm") == "challenger")
    assert set(shadow_rows["model_version"]) == {challenger.version}
    assert sorted(shadow_rows["customer_id"].drop_nulls()) == sorted([*ids, ids[0]])
    assert f'ecom_scores_total{{arm="challenger",served="false"}} {float(answered)}' in metrics
    assert f'ecom_scores_total{{arm="champion",served="true"}} {float(answered)}' in metrics
