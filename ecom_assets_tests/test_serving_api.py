"""The scoring service over real HTTP: a uvicorn process on a small lake with a promoted champion."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

import httpx
import numpy as np
import polars as pl
import pytest
import schemathesis
from fastapi.exceptions import RequestValidationError
from hypothesis import HealthCheck, given, settings
from pydantic import ValidationError
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from ecom_assets.keys import PREDICTION_LOG
from ecom_assets.ml.batch_scores import score_features
from ecom_assets.ml.registry import ModelManifest, ModelRegistry
from ecom_assets.storage.lake import Lake
from ecom_assets.transforms.features import FEATURE_NAMES, no_activity_features
from ecom_assets_tests.serving_support import (
    API_KEY,
    register_model,
    running_service,
    wait_until,
    write_features,
)
from serving.prediction_log import PREDICTION_LOG_SCHEMA
from serving.schemas import ScoreByCustomer
from serving.score_route import SCORE_REQUEST, ScoreShortcut, parse_score_request

KEY = {"X-API-Key": API_KEY}


@dataclass
class Served:
    url: str
    lake: Lake
    manifest: ModelManifest
    features: pl.DataFrame

    def post(self, path: str, body: object, headers: dict | None = KEY) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", json=body, headers=headers, timeout=10)


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Served:
    root = tmp_path_factory.mktemp("serving_api")
    lake = Lake(str(root / "lake"))
    features = write_features(lake)
    manifest = register_model(lake, seed=1)
    with running_service(lake, root, api_keys=f"other-key,{API_KEY}", max_body_bytes="4096") as url:
        wait_until(lambda: httpx.get(f"{url}/ready").status_code == 200, what="the service to be ready")
        yield Served(url, lake, manifest, features)


def test_health_ready_and_model_describe_the_champion(served):
    assert httpx.get(f"{served.url}/health").json() == {"status": "ok"}
    ready = httpx.get(f"{served.url}/ready").json()
    assert ready == {
        "ready": True,
        "reason": None,
        "model_version": served.manifest.version,
        "features_as_of": "2026-11-01",
    }
    model = httpx.get(f"{served.url}/model", headers=KEY).json()
    assert model["version"] == served.manifest.version
    assert model["feature_names"] == FEATURE_NAMES
    assert model["training_window"] == ["2026-09-02", "2026-10-02"]
    assert model["metrics"] == {"roc_auc": pytest.approx(0.71)}
    assert model["customers_indexed"] == served.features.height
    assert (model["challenger"], model["challenger_mode"]) == (None, "off")


def test_scores_equal_the_batch_scores_of_the_same_model(served):
    batch = score_features(served.features, ModelRegistry(served.lake).load_champion())
    expected = dict(zip(batch["customer_id"], batch["score"], strict=True))
    ids = served.features["customer_id"].to_list()

    listed = served.post("/score/batch", {"customer_ids": ids})
    assert listed.status_code == 200
    assert {row["customer_id"]: row["score"] for row in listed.json()} == expected
    assert {row["model_version"] for row in listed.json()} == set(batch["model_version"])
    for customer_id in ids[:40]:
        single = served.post("/score", {"customer_id": customer_id}).json()
        assert single["score"] == expected[customer_id], customer_id
        assert single["cold_start"] is False
        assert single["features_as_of"] == "2026-11-01"
        assert single["arm"] == "champion"


def test_unknown_customer_is_scored_on_the_no_activity_vector(served):
    model = ModelRegistry(served.lake).load(served.manifest.version).model
    vector = np.array([[no_activity_features()[name] for name in FEATURE_NAMES]])
    body = served.post("/score", {"customer_id": "never-seen"}).json()
    assert body["cold_start"] is True
    assert body["score"] == model.predict_proba(vector)[0, 1]
    batch = served.post("/score/batch", {"customer_ids": ["never-seen", "also-new"]}).json()
    assert [row["score"] for row in batch] == [body["score"]] * 2


def test_explicit_features_score_like_the_customer_they_describe(served):
    complete = served.features.drop_nulls().row(0, named=True)
    features = {name: complete[name] for name in FEATURE_NAMES}
    by_features = served.post("/score", {"features": features}).json()
    by_id = served.post("/score", {"customer_id": complete["customer_id"]}).json()
    assert by_features["score"] == by_id["score"]
    assert by_features["customer_id"] is None
    assert by_features["features_as_of"] is None
    assert by_features["cold_start"] is False


@pytest.mark.parametrize("path", ["/score", "/score/batch", "/model"])
@pytest.mark.parametrize("headers", [None, {"X-API-Key": "wrong"}, {"X-API-Key": "tëst".encode("latin-1")}])
def test_protected_endpoints_need_a_known_api_key(served, path, headers):
    if path == "/model":
        response = httpx.get(f"{served.url}{path}", headers=headers)
    else:
        response = served.post(path, {"customer_ids": ["c"], "customer_id": "c"}, headers=headers)
    assert response.status_code == 401
    assert httpx.get(f"{served.url}/ready", headers=headers).status_code == 200


def _one_feature_changed(name: str, value: object) -> dict:
    return {"features": {**no_activity_features(), name: value}}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/score", {}, "body"),
        ("/score", {"customer_id": "c", "features": no_activity_features()}, "body"),
        ("/score", {"customer_id": ""}, "customer_id"),
        ("/score", {"customer_id": 42}, "customer_id"),
        ("/score", {"customer_id": "c", "extra": 1}, "extra"),
        ("/score", _one_feature_changed("orders_7d", "1"), "orders_7d"),
        ("/score", _one_feature_changed("orders_7d", True), "orders_7d"),
        ("/score", _one_feature_changed("unknown_feature", 1.0), "unknown_feature"),
        (
            "/score",
            {"features": {k: v for k, v in no_activity_features().items() if k != "tenure_days"}},
            "tenure_days",
        ),
        ("/score/batch", {"customer_ids": []}, "customer_ids"),
        ("/score/batch", {"customer_ids": ["c"] * 1001}, "customer_ids"),
        ("/score/batch", {"customer_ids": ["c", None]}, "customer_ids"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(served, path, body, field):
    response = served.post(path, body)
    assert response.status_code == 422, response.text
    assert any(field in error["loc"] for error in response.json()["detail"]), response.text


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_feature_values_are_a_422(served, literal):
    body = '{"features": {%s}}' % ", ".join(  # noqa: UP031  (JSON with literals json.dumps cannot write)
        f'"{name}": {literal if name == "orders_7d" else value}'
        for name, value in no_activity_features().items()
    )
    response = httpx.post(
        f"{served.url}/score", content=body, headers={**KEY, "Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert any("orders_7d" in error["loc"] for error in response.json()["detail"])


def test_a_body_is_parsed_as_the_union_would_whatever_shape_it_seems_to_name():
    # The parser tries the shape whose field name it sees first; an escaped name hides it, an extra
    # field makes it fail: the answer and the errors are still the union's.
    assert parse_score_request(b'{"customer\\u005fid": "c1"}') == ScoreByCustomer(customer_id="c1")
    with pytest.raises(RequestValidationError) as refused:
        parse_score_request(b'{"customer_id": "c1", "features": {}}')
    assert {error["loc"][:2] for error in refused.value.errors()} == {
        ("body", "ScoreByCustomer"),
        ("body", "ScoreByFeatures"),
    }


NUMBERS = [
    "0", "-0", "-0.0", "3", "1.5", "0.1", "1e-7", "5e-324", "2.2250738585072011e-308",
    "1.7976931348623157e308", "9007199254740993", "123456789012345678901234567890",
    "0.30000000000000004441", "1e999", "-1e999",
    "true", "null", '"1.5"', "[1]", "NaN", "Infinity",
]  # fmt: skip


@pytest.mark.parametrize("seed", range(3))
def test_feature_bodies_read_fast_get_exactly_the_values_and_errors_of_the_schema(seed):
    rng = np.random.default_rng(seed)
    literals = NUMBERS + [repr(value) for value in rng.lognormal(0, 8, 200)]
    literals += [
        f"{rng.integers(10**17):d}.{rng.integers(10**17):017d}e{rng.integers(-30, 30)}" for _ in range(200)
    ]
    for literal in literals:
        names = rng.permutation(FEATURE_NAMES)
        body = '{"features": {%s}}' % ", ".join(f'"{name}": {literal}' for name in names)  # noqa: UP031
        try:
            expected = vars(SCORE_REQUEST.validate_json(body).features)
        except ValidationError:
            with pytest.raises(RequestValidationError):
                parse_score_request(body.encode())
            continue
        got = parse_score_request(body.encode())
        assert isinstance(got, dict)
        assert [got[name].hex() for name in FEATURE_NAMES] == [expected[name].hex() for name in FEATURE_NAMES]


def test_malformed_json_and_oversized_bodies_are_refused(served):
    headers = {**KEY, "Content-Type": "application/json"}
    assert httpx.post(f"{served.url}/score", content=b"{not json", headers=headers).status_code == 422
    not_utf8 = httpx.post(f"{served.url}/score", content=b'{"customer_id": "\xff\xfe"}', headers=headers)
    assert not_utf8.status_code == 422 and not_utf8.json()["detail"][0]["loc"][0] == "body"
    oversized = served.post("/score/batch", {"customer_ids": [f"customer-{n:06d}" for n in range(1000)]})
    assert oversized.status_code == 413


def test_score_answered_before_the_router_keeps_its_limits_and_methods(served):
    oversized = served.post("/score", {"customer_id": "c" * 5000})  # over the fixture's 4,096 bytes
    assert oversized.status_code == 413
    assert httpx.get(f"{served.url}/score", headers=KEY).status_code == 405
    assert served.post("/score", {"customer_id": "c"}, headers=None).status_code == 401


def test_only_post_score_takes_the_shortcut():
    reached = []

    def recorder(name: str):
        async def app(scope, receive, send) -> None:
            reached.append((name, scope["method"], scope["path"]))

        return app

    shortcut = ScoreShortcut(recorder("router"), endpoint=recorder("score"))
    for method, path in [("POST", "/score"), ("GET", "/score"), ("POST", "/score/batch"), ("GET", "/health")]:
        asyncio.run(shortcut({"type": "http", "method": method, "path": path}, None, None))
    assert reached == [
        ("score", "POST", "/score"),
        ("router", "GET", "/score"),
        ("router", "POST", "/score/batch"),
        ("router", "GET", "/health"),
    ]


def test_metrics_report_requests_model_and_cold_start_share(served):
    served.post("/score", {"customer_id": "never-seen-for-metrics"})
    served.post("/score", {"customer_id": served.features["customer_id"][0]})
    text = httpx.get(f"{served.url}/metrics").text
    assert f'ecom_model_info{{arm="champion",version="{served.manifest.version}"}} 1.0' in text
    assert 'ecom_scores_total{arm="champion",served="true"}' in text
    assert 'ecom_http_requests_total{path="/score",status="200"}' in text
    assert 'ecom_http_request_duration_seconds_bucket{le="0.01",path="/score"}' in text
    assert 'ecom_model_reloads_total{outcome="loaded"} 1.0' in text
    share = next(line for line in text.splitlines() if line.startswith("ecom_cold_start_share "))
    assert 0 < float(share.split()[1]) < 1


def test_every_score_is_appended_to_the_prediction_log(served):
    served.post("/score", {"customer_id": "logged-customer"})

    def logged() -> pl.DataFrame:
        if not served.lake.table_exists(PREDICTION_LOG):
            return pl.DataFrame()
        return served.lake.read_table(PREDICTION_LOG).filter(pl.col("customer_id") == "logged-customer")

    wait_until(lambda: logged().height == 1, what="the prediction log row", timeout=10)
    row = logged().row(0, named=True)
    assert logged().schema == pl.Schema(PREDICTION_LOG_SCHEMA)
    assert row["model_version"] == served.manifest.version
    assert row["cold_start"] is True
    assert (row["arm"], row["served"]) == ("champion", True)
    assert row["log_date"] == row["logged_at"].date()
    assert math.isfinite(row["score"])


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
def test_fuzzed_requests_never_get_a_server_error(served, mode):
    """Schema-driven requests (valid ones, then ones breaking the schema) against every operation."""
    schema = schemathesis.openapi.from_url(f"{served.url}/openapi.json")

    @given(case=schema.as_strategy(generation_mode=mode))
    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def call(case):
        # The data-acceptance checks do not know 413, which the body limit (4 KiB here) rightly answers.
        case.call_and_validate(
            headers=KEY, timeout=10, excluded_checks=[negative_data_rejection, positive_data_acceptance]
        )

    call()
