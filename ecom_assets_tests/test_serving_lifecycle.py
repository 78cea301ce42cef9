"""The service as a process: SIGTERM answers what is in flight and writes every queued log row; more
clients than it can serve get fast 503s."""

from __future__ import annotations

import signal
import socket
import threading
import time

import httpx

from ecom_assets.keys import PREDICTION_LOG
from ecom_assets.storage.lake import Lake
from ecom_assets_tests.serving_support import register_model, service_process, wait_until, write_features


def _ready(url: str) -> bool:
    return httpx.get(f"{url}/ready").status_code == 200


def _score_until_refused(url: str, answered: list[int], worker: int) -> None:
    """Single and batch requests until the server stops answering; counts the rows answered."""
    ids = [f"c00-{number:05d}" for number in range(20)] + [f"new-{worker}"]
    with httpx.Client(base_url=url, timeout=10) as client:
        for number in range(100_000):
            try:
                if number % 3:
                    response = client.post("/score", json={"customer_id": ids[number % len(ids)]})
                    rows = 1
                else:
                    response = client.post("/score/batch", json={"customer_ids": ids})
                    rows = len(ids)
            except httpx.TransportError:
                return
            if response.status_code != 200:
                return
            answered.append(rows)


def test_sigterm_answers_requests_in_flight_and_writes_every_queued_row(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    write_features(lake)
    register_model(lake, seed=1)
    # A flush interval longer than the test: every row is written by the final flush on shutdown.
    with service_process(lake, tmp_path, prediction_log_flush_seconds="3600") as (url, process):
        wait_until(lambda: _ready(url), what="the service to be ready")
        answered: list[int] = []
        clients = [threading.Thread(target=_score_until_refused, args=(url, answered, n)) for n in range(4)]
        for thread in clients:
            thread.start()
        wait_until(lambda: len(answered) > 200, what="the load to run")
        process.send_signal(signal.SIGTERM)
        for thread in clients:
            thread.join()
        # uvicorn shuts down cleanly, then re-raises the signal so the exit status says what ended it
        assert process.wait(timeout=30) == -signal.SIGTERM
        port = url.rsplit(":", 1)[1]
        assert "Application shutdown complete" in (tmp_path / f"serve-{port}.log").read_text()

    assert lake.read_table(PREDICTION_LOG).height == sum(answered)


def _stalled_request(port: int) -> socket.socket:
    """A POST whose body never comes: it stays in flight inside the app."""
    stalled = socket.create_connection(("127.0.0.1", port))
    stalled.sendall(
        b"POST /score HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n"
    )
    return stalled


def test_overload_gets_fast_503s_with_retry_after(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    write_features(lake)
    register_model(lake, seed=1)
    limits = {"max_requests_in_flight": "2", "max_connections": "6"}
    with service_process(lake, tmp_path, **limits) as (url, _):
        wait_until(lambda: _ready(url), what="the service to be ready")
        port = int(url.rsplit(":", 1)[1])
        held = [_stalled_request(port) for _ in range(2)]
        time.sleep(0.3)
        started = time.perf_counter()
        refused = httpx.post(f"{url}/score", json={"customer_id": "c00-00001"})
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "1"
        assert time.perf_counter() - started < 0.5
        assert httpx.get(f"{url}/health").status_code == 200  # liveness answers while requests are refused

        held += [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]  # six connections open
        time.sleep(0.3)
        assert httpx.get(f"{url}/health").status_code == 503  # uvicorn refuses the seventh connection
        for connection in held:
            connection.close()
        wait_until(lambda: _ready(url), what="the service to serve again")
        assert httpx.post(f"{url}/score", json={"customer_id": "c00-00001"}).status_code == 200
        metrics = httpx.get(f"{url}/metrics").text
    assert 'ecom_http_requests_total{path="/score",status="503"} 1.0' in metrics
