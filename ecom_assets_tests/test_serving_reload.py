"""The service follows the champion: 503 until one exists, hot swaps under load, corrupt ones refused."""

from __future__ import annotations

import itertools
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from ecom_assets.ml.registry import CHALLENGER_ROLE, MODEL_FILE, ModelRegistry
from ecom_assets.storage.lake import Lake
from ecom_assets_tests.serving_support import register_model, running_service, wait_until, write_features


def _ready(url: str) -> bool:
    return httpx.get(f"{url}/ready").status_code == 200


def _metric(url: str, line_start: str) -> float:
    text = httpx.get(f"{url}/metrics").text
    return float(next(line for line in text.splitlines() if line.startswith(line_start)).split()[-1])


def test_not_ready_until_a_champion_and_its_features_are_loaded(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    with running_service(lake, tmp_path) as url:
        ready = httpx.get(f"{url}/ready")
        assert ready.status_code == 503
        assert "no champion" in ready.json()["reason"]
        scored = httpx.post(f"{url}/score", json={"customer_id": "c"})
        assert scored.status_code == 503
        assert scored.headers["Retry-After"]
        assert httpx.get(f"{url}/model").status_code == 503

        manifest = register_model(lake, seed=1)
        wait_until(lambda: httpx.get(f"{url}/model").status_code == 200, what="the champion to load")
        reason = httpx.get(f"{url}/ready").json()["reason"]
        assert "gold/customer_daily_features" in reason
        assert httpx.post(f"{url}/score", json={"customer_id": "c"}).status_code == 503

        write_features(lake)
        wait_until(lambda: _ready(url), what="the features to load")
        body = httpx.post(f"{url}/score", json={"customer_id": "c00-00001"}).json()
        assert body["model_version"] == manifest.version
        assert body["cold_start"] is False


def _hammer(url: str, results: list, stop: threading.Event) -> None:
    """Single and batch requests from 8 threads until stopped; keeps every response."""
    ids = [f"c00-{number:05d}" for number in range(50)] + ["new-customer"]

    def call(client: httpx.Client, worker: int) -> None:
        for number in itertools.count(worker):
            if stop.is_set():
                return
            if number % 4:
                response = client.post("/score", json={"customer_id": ids[number % len(ids)]})
                rows = [response.json()] if response.status_code == 200 else []
            else:
                response = client.post("/score/batch", json={"customer_ids": ids})
                rows = response.json() if response.status_code == 200 else []
            results.append((response.status_code, {(row["arm"], row["model_version"]) for row in rows}))

    with httpx.Client(base_url=url, timeout=10) as client, ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda worker: call(client, worker), range(8)))


def _versions(url: str) -> tuple[str, str | None]:
    model = httpx.get(f"{url}/model").json()
    return model["version"], (model["challenger"] or {}).get("version")


def test_hot_swap_of_both_arms_under_load_then_a_corrupt_champion_is_refused(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    write_features(lake)
    first = register_model(lake, seed=1)
    first_challenger = register_model(lake, seed=4, role=CHALLENGER_ROLE)
    with running_service(
        lake, tmp_path, serving_challenger_mode="split", serving_challenger_share="0.5"
    ) as url:
        wait_until(lambda: _ready(url), what="the first champion")
        results: list[tuple[int, set[tuple[str, str]]]] = []
        stop = threading.Event()
        load = threading.Thread(target=_hammer, args=(url, results, stop))
        load.start()
        wait_until(lambda: len(results) > 100, what="the load to run")
        second = register_model(lake, seed=2)
        second_challenger = register_model(lake, seed=5, role=CHALLENGER_ROLE)
        wait_until(lambda: _versions(url) == (second.version, second_challenger.version), what="the swaps")
        stop.set()
        load.join()

        assert [status for status, _ in results if status != 200] == []
        assert len(results) > 400
        assert set().union(*(versions for _, versions in results)) == {
            ("champion", first.version),
            ("champion", second.version),
            ("challenger", first_challenger.version),
            ("challenger", second_challenger.version),
        }
        row = lake.read_table("gold/customer_daily_features").filter(customer_id="c00-00007")
        scored = httpx.post(f"{url}/score", json={"customer_id": "c00-00007"}).json()
        answering = {"champion": second, "challenger": second_challenger}[scored["arm"]]
        expected = ModelRegistry(lake).load(answering.version).model
        assert scored["score"] == expected.predict_proba(row.select(second.feature_names).to_numpy())[0, 1]

        third = register_model(lake, seed=3, promote=False)
        lake.write_bytes(f"ml/registry/propensity_model/versions/{third.version}/{MODEL_FILE}", b"tampered")
        pointer = {
            "version": third.version,
            "sha256": third.sha256,
            "promoted_at": "2026-11-02T00:00:00+00:00",
        }
        lake.write_bytes("ml/registry/propensity_model/champion.json", json.dumps(pointer).encode())

        wait_until(
            lambda: _metric(url, 'ecom_model_reloads_total{outcome="refused"}') == 1, what="the refusal"
        )
        assert _ready(url)
        by_features = httpx.post(f"{url}/score", json={"features": dict.fromkeys(second.feature_names, 1.0)})
        assert by_features.json()["model_version"] == second.version
