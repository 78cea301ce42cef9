"""Every scored request, appended to the Delta table ``monitoring/prediction_log`` for monitoring.

Requests append to column lists under a lock held for a few appends (no I/O, no per-row objects); a
background thread swaps the lists for empty ones and writes what accumulated as one Delta append per
flush. Turning the lists into columns is a handful of vectorised conversions, and the Delta write
itself runs in Rust without the GIL, so a flush does not stall requests. While the lake is unreachable
rows wait, up to a bound; rows beyond it are counted as lost and logged, never dropped silently.

Each row says which ``arm`` (champion or challenger) scored it and whether that score was ``served``
(the answer) or a shadow score that only the log sees. Rows written before these columns existed read
them as null: treat a null arm as the champion and a null ``served`` as served.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import polars as pl

from ecom_assets.faults import PREDICTION_LOG_FLUSH, fault_point
from ecom_assets.keys import PREDICTION_LOG
from ecom_assets.storage.lake import Lake
from serving.background import lower_thread_priority

PREDICTION_LOG_SCHEMA = pl.Schema(
    {  # instances, not classes: one value type for the type checker
        "logged_at": pl.Datetime("us", "UTC"),
        "log_date": pl.Date(),
        "customer_id": pl.String(),
        "score": pl.Float64(),
        "model_version": pl.String(),
        "cold_start": pl.Boolean(),
        "features_as_of": pl.Date(),
        "arm": pl.String(),
        "served": pl.Boolean(),
    }
)
EPOCH = dt.date(1970, 1, 1)

log = logging.getLogger(__name__)


def epoch_days(day: dt.date | None) -> int | None:
    return None if day is None else (day - EPOCH).days


class ColumnBuffer:
    """Predictions as one list per column; ``features_as_of`` as days since the epoch."""

    def __init__(self) -> None:
        self.logged_at: list[float] = []
        self.customer_id: list[str | None] = []
        self.score: list[float] = []
        self.model_version: list[str] = []
        self.cold_start: list[bool] = []
        self.features_as_of: list[int | None] = []
        self.arm: list[str] = []
        self.served: list[bool] = []

    def __len__(self) -> int:
        return len(self.score)

    def to_frame(self) -> pl.DataFrame:
        micros = (pl.Series(self.logged_at, dtype=pl.Float64) * 1e6).round().cast(pl.Int64)
        logged_at = micros.cast(pl.Datetime("us", "UTC"))
        columns = {
            "logged_at": logged_at,
            "log_date": logged_at.dt.date(),
            "customer_id": pl.Series(self.customer_id, dtype=pl.String),
            "score": pl.Series(self.score, dtype=pl.Float64),
            "model_version": pl.Series(self.model_version, dtype=pl.String),
            "cold_start": pl.Series(self.cold_start, dtype=pl.Boolean),
            "features_as_of": pl.Series(self.features_as_of, dtype=pl.Int32).cast(pl.Date),
            "arm": pl.Series(self.arm, dtype=pl.String),
            "served": pl.Series(self.served, dtype=pl.Boolean),
        }
        return pl.DataFrame(columns, schema=PREDICTION_LOG_SCHEMA)


class PredictionLog:
    def __init__(self, lake: Lake, flush_seconds: float, max_pending: int):
        self.lake = lake
        self.flush_seconds = flush_seconds
        self.max_pending = max_pending
        self.written = 0
        self.lost = 0
        self.flushes = 0
        self._buffer = ColumnBuffer()
        self._unwritten: list[pl.DataFrame] = []  # frames a failed write left for the next flush
        self._pending = 0
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)

    @property
    def pending(self) -> int:
        return self._pending

    def record(
        self,
        customer_id: str | None,
        score: float,
        version: str,
        cold_start: bool,
        as_of_days: int | None,
        arm: str,
        served: bool,
    ) -> None:
        """Queue one prediction; never blocks on I/O and never touches the lake."""
        with self._lock:
            if self._pending >= self.max_pending:
                self.lost += 1
                return
            self._pending += 1
            buffer = self._buffer
            buffer.logged_at.append(time.time())
            buffer.customer_id.append(customer_id)
            buffer.score.append(score)
            buffer.model_version.append(version)
            buffer.cold_start.append(cold_start)
            buffer.features_as_of.append(as_of_days)
            buffer.arm.append(arm)
            buffer.served.append(served)

    def record_many(
        self,
        customer_ids: list[str],
        scores: list[float],
        version: str,
        cold_starts: list[bool],
        as_of_days: int | None,
        arm: str,
        served: bool,
    ) -> None:
        """Queue the rows of one batch request (as many as fit under the bound)."""
        count = len(scores)
        with self._lock:
            room = min(max(self.max_pending - self._pending, 0), count)
            self.lost += count - room
            self._pending += room
            buffer = self._buffer
            buffer.logged_at.extend([time.time()] * room)
            buffer.customer_id.extend(customer_ids[:room])
            buffer.score.extend(scores[:room])
            buffer.model_version.extend([version] * room)
            buffer.cold_start.extend(cold_starts[:room])
            buffer.features_as_of.extend([as_of_days] * room)
            buffer.arm.extend([arm] * room)
            buffer.served.extend([served] * room)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Write what is still queued, then stop the writer."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.flush()
        if self.lost:
            log.error("prediction log: %d predictions were lost while the lake was unreachable", self.lost)

    def _run(self) -> None:
        lower_thread_priority()
        while not self._stop.wait(self.flush_seconds):
            self.flush()

    def flush(self) -> None:
        with self._flushing:
            with self._lock:
                buffer, self._buffer = self._buffer, ColumnBuffer()
            frames = [*self._unwritten, buffer.to_frame()] if len(buffer) else self._unwritten
            if not frames:
                return
            frame = pl.concat(frames) if len(frames) > 1 else frames[0]
            fault_point(PREDICTION_LOG_FLUSH)
            try:
                self.lake.append_table(PREDICTION_LOG, frame, partition_column="log_date")
            except Exception:  # the lake may be briefly unreachable: keep the rows for the next flush
                log.exception(
                    "prediction log: writing %d rows failed; retried at the next flush", frame.height
                )
                self._unwritten = [frame]
                return
            self._unwritten = []
            with self._lock:
                self._pending -= frame.height
            self.written += frame.height
            self.flushes += 1
