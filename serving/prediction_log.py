"""Every scored request, appended to the Delta table ``monitoring/prediction_log`` for drift monitoring.

Requests only put a tuple on a thread-safe deque (no I/O, no lock); a background thread writes what has
accumulated as one Delta append per flush. While the lake is unreachable rows wait, up to a bound;
rows beyond it are counted as lost and logged, never dropped silently.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import deque

import polars as pl

from ecom_assets.faults import PREDICTION_LOG_FLUSH, fault_point
from ecom_assets.keys import PREDICTION_LOG
from ecom_assets.storage.lake import Lake

PREDICTION_LOG_SCHEMA = {
    "logged_at": pl.Datetime("us", "UTC"),
    "log_date": pl.Date,
    "customer_id": pl.String,
    "score": pl.Float64,
    "model_version": pl.String,
    "cold_start": pl.Boolean,
    "features_as_of": pl.Date,
}

log = logging.getLogger(__name__)

# (logged_at as epoch seconds, customer_id, score, model_version, cold_start, features_as_of)
Row = tuple[float, str | None, float, str, bool, dt.date | None]


def rows_to_frame(rows: list[Row]) -> pl.DataFrame:
    stamps = [dt.datetime.fromtimestamp(row[0], dt.UTC) for row in rows]
    columns = list(zip(*rows, strict=True))
    return pl.DataFrame(
        {
            "logged_at": stamps,
            "log_date": [stamp.date() for stamp in stamps],
            "customer_id": columns[1],
            "score": columns[2],
            "model_version": columns[3],
            "cold_start": columns[4],
            "features_as_of": columns[5],
        },
        schema=PREDICTION_LOG_SCHEMA,
    )


class PredictionLog:
    def __init__(self, lake: Lake, flush_seconds: float, max_pending: int):
        self.lake = lake
        self.flush_seconds = flush_seconds
        self.max_pending = max_pending
        self.pending: deque[Row] = deque()
        self.written = 0
        self.lost = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)

    def record(
        self, customer_id: str | None, score: float, version: str, cold_start: bool, as_of: dt.date | None
    ) -> None:
        """Queue one prediction; never blocks and never touches the lake."""
        if len(self.pending) >= self.max_pending:
            self.lost += 1
            return
        self.pending.append((time.time(), customer_id, score, version, cold_start, as_of))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Write what is still queued, then stop the writer."""
        self._stop.set()
        self._thread.join()
        self.flush()
        if self.lost:
            log.error("prediction log: %d predictions were lost while the lake was unreachable", self.lost)

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            self.flush()

    def flush(self) -> None:
        count = len(self.pending)
        if not count:
            return
        rows = [self.pending.popleft() for _ in range(count)]
        fault_point(PREDICTION_LOG_FLUSH)
        try:
            self.lake.append_table(PREDICTION_LOG, rows_to_frame(rows), partition_column="log_date")
        except Exception:  # the lake may be briefly unreachable: keep the rows for the next flush
            log.exception("prediction log: writing %d rows failed; they are retried at the next flush", count)
            room = max(self.max_pending - len(self.pending), 0)
            self.pending.extendleft(reversed(rows[-room:] if room else []))
            self.lost += count - min(room, count)
            return
        self.written += count
