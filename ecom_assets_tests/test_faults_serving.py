"""The scoring service through faults: storage outages and a crash while it flushes the prediction log."""

import httpx

from ecom_assets.faults import PREDICTION_LOG_FLUSH
from ecom_assets.keys import PREDICTION_LOG
from ecom_assets.storage.lake import Lake
from ecom_assets_tests.fault_harness import logged_predictions, score_at_once, service_alive
from ecom_assets_tests.serving_support import register_model, running_service, wait_until, write_features


def _score(url: str, customers: range) -> list[dict]:
    answers = [httpx.post(f"{url}/score", json={"customer_id": f"c00-{number:05d}"}) for number in customers]
    assert [answer.status_code for answer in answers] == [200] * len(answers)
    return [answer.json() for answer in answers]


def test_while_storage_is_down_the_service_answers_from_memory_and_reloads_when_it_returns(outage, tmp_path):
    lake = Lake.from_settings()
    write_features(lake)
    first = register_model(lake, seed=1)
    with running_service(lake, tmp_path) as url:
        wait_until(lambda: httpx.get(f"{url}/ready").status_code == 200, what="the champion")
        scored = _score(url, range(5))

        outage.cut()
        scored += _score(url, range(5, 40))
        assert {answer["model_version"] for answer in scored} == {first.version}
        assert httpx.get(f"{url}/ready").status_code == 200
        outage.restore()

        second = register_model(lake, seed=2)
        wait_until(lambda: httpx.get(f"{url}/model").json()["version"] == second.version, "reload", 180)
        assert {answer["model_version"] for answer in _score(url, range(40, 45))} == {second.version}
        wait_until(lambda: logged_predictions(lake) == 45, what="every prediction in the log", timeout=180)


def test_a_crash_while_the_prediction_log_flushes_leaves_it_readable_at_its_last_commit(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    write_features(lake)
    register_model(lake, seed=1)
    crash_at_second_flush = {"fault_point": PREDICTION_LOG_FLUSH, "fault_after": "2"}
    with running_service(lake, tmp_path, **crash_at_second_flush) as url:
        wait_until(lambda: httpx.get(f"{url}/ready").status_code == 200, what="the champion")
        score_at_once(url, range(3))
        wait_until(lambda: logged_predictions(lake) == 3, what="the first flush")
        version = lake.table_version(PREDICTION_LOG)
        score_at_once(url, range(3, 5))
        wait_until(lambda: not service_alive(url), what="the crash at the second flush")

    assert lake.table_version(PREDICTION_LOG) == version and logged_predictions(lake) == 3
    with running_service(lake, tmp_path) as url:
        wait_until(lambda: httpx.get(f"{url}/ready").status_code == 200, what="the champion")
        score_at_once(url, range(5, 6))
        wait_until(lambda: logged_predictions(lake) == 4, what="the restarted service's flush")
