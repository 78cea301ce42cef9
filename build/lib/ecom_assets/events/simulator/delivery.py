"""From events to landing lines per arrival date, with the faults of a real feed along the way."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import orjson

from ecom_assets.events.simulator.faults import MALFORMED_KINDS, FaultRates, malformed_line
from ecom_assets.events.simulator.sessions import TimedEvent

EPOCH = dt.datetime(1970, 1, 1)
EPOCH_DATE = EPOCH.date()
DAY_MS = 86_400_000
LATE_WINDOW_DAYS = 3
CLIENT_OFFSETS_MINUTES = (60, 120, -300, -240, 330, 540, -480, 180)


@dataclass
class DeliveryCounts:
    events: int = 0
    lines: int = 0
    duplicates: int = 0
    late: int = 0
    tz_offset: int = 0
    out_of_order: int = 0
    malformed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MALFORMED_KINDS, 0))


def format_ts(ms: int, offset_minutes: int) -> str:
    """ISO 8601 with millis: ``Z`` for UTC, else the client's local time and its offset (same instant)."""
    local_time = EPOCH + dt.timedelta(milliseconds=ms + offset_minutes * 60_000)
    local = local_time.isoformat(timespec="milliseconds")
    if offset_minutes == 0:
        return f"{local}Z"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{local}{'+' if offset_minutes > 0 else '-'}{hours:02d}:{minutes:02d}"


class Delivery:
    """Holds lines by arrival date until that date can no longer receive anything."""

    def __init__(self, faults: FaultRates, counts: DeliveryCounts):
        self.faults = faults
        self.counts = counts
        self.pending: dict[dt.date, list[tuple[int, int, str]]] = defaultdict(list)

    def deliver(self, session: list[TimedEvent], rnd: random.Random) -> None:
        """Queue one session's events. Time zone and lateness are the client's, so they hold per session."""
        faults, counts = self.faults, self.counts
        offset = rnd.choice(CLIENT_OFFSETS_MINUTES) if rnd.random() < faults.tz_offset else 0
        delay = dt.timedelta(days=rnd.randint(1, LATE_WINDOW_DAYS) if rnd.random() < faults.late else 0)
        for ms, event in session:
            counts.tz_offset += offset != 0
            counts.late += delay.days > 0
            event["event_ts"] = format_ts(ms, offset)
            event_date = EPOCH_DATE + dt.timedelta(days=ms // DAY_MS)
            arrival = event_date + delay
            sort_key = ms
            if rnd.random() < faults.out_of_order:
                sort_key += rnd.choice((-1, 1)) * rnd.randint(600_000, 4 * 3_600_000)
                counts.out_of_order += 1
            kind = faults.pick_malformed(event, rnd)
            if kind is not None:
                counts.malformed[kind] += 1
                self._add(arrival, sort_key, malformed_line(event, kind, rnd))
            else:
                line = orjson.dumps(event).decode()
                self._add(arrival, sort_key, line)
                if rnd.random() < faults.duplicate:
                    self._add(self._redelivery(arrival, event_date, rnd), sort_key, line)
                    counts.duplicates += 1
            counts.events += 1

    def ready(self, through: dt.date) -> Iterator[tuple[dt.date, list[str]]]:
        """The files of every arrival date up to ``through``, each in its final line order."""
        for arrival in sorted(date for date in self.pending if date <= through):
            lines = sorted(self.pending.pop(arrival))
            yield arrival, [line for _, _, line in lines]

    def _add(self, arrival: dt.date, sort_key: int, line: str) -> None:
        self.pending[arrival].append((sort_key, self.counts.lines, line))
        self.counts.lines += 1

    @staticmethod
    def _redelivery(arrival: dt.date, event_date: dt.date, rnd: random.Random) -> dt.date:
        """A producer retry: mostly the same file's date, sometimes the next, never past the late window."""
        later = dt.timedelta(days=1 if rnd.random() < 0.3 else 0)
        return min(arrival + later, event_date + dt.timedelta(days=LATE_WINDOW_DAYS))
