"""Bronze arrival days parsed once per process, even across runs.

``ecom materialize`` runs ``bronze/events`` and ``silver/events_rejected`` (by arrival day) before
``silver/events`` (by event date, reading the same arrival days). Bronze parses each day's lines on
threads while it writes them (``ParseAhead``) and leaves the parse here; the rejects take their lines
from it (or parse the day and leave it), and Silver takes it instead of decoding every line again.
Parses are held in memory up to a budget in bytes; past it, they are spilled to Arrow IPC files in a
temporary folder, read back (and deleted) when taken, so a long range costs disk rather than memory
without bound or a second parse; the folder of a process killed mid-run is removed by the next one that
spills. A parse is filed under the fingerprint of the Bronze partition it read
(``Lake.partition_fingerprints``) and the late window it was judged by, so it is only ever taken for
the very same lines and rules.
"""

import datetime as dt
import os
import shutil
import tempfile
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ecom_assets.transforms.silver import ParsedBronze
from ecom_assets.transforms.threads import THREADS

DEFAULT_BUDGET_BYTES = 1_000_000_000
_SPILL_PREFIX = "ecom-parsed-days-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_orphaned_spill_folders() -> None:
    """Remove the spill folders of processes that died without removing them (killed mid-run); a folder
    names the process that made it."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_SPILL_PREFIX}*-*"):
        pid = folder.name.removeprefix(_SPILL_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _size(parsed: ParsedBronze) -> int:
    return int(parsed.events.estimated_size() + parsed.rejected.estimated_size())


@dataclass(frozen=True)
class _Spilled:
    events: Path
    rejected: Path

    def read(self) -> ParsedBronze:
        parsed = ParsedBronze(events=pl.read_ipc(self.events), rejected=pl.read_ipc(self.rejected))
        self.delete()
        return parsed

    def delete(self) -> None:
        self.events.unlink()
        self.rejected.unlink()


class ParsedDays:
    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self._budget_bytes = budget_bytes
        self._held: dict[str, ParsedBronze] = {}
        self._held_bytes = 0
        self._spilled: dict[str, _Spilled] = {}
        self._spill_folder: tempfile.TemporaryDirectory | None = None  # removed with this object

    @staticmethod
    def key(partition_fingerprint: str, late_window_days: int) -> str:
        return f"{partition_fingerprint}-{late_window_days}"

    def put(self, key: str, parsed: ParsedBronze) -> None:
        if self.has(key):
            return
        size = _size(parsed)
        if self._held_bytes + size <= self._budget_bytes:
            self._held[key] = parsed
            self._held_bytes += size
        else:
            self._spilled[key] = self._spill(key, parsed)

    def _spill(self, key: str, parsed: ParsedBronze) -> _Spilled:
        if self._spill_folder is None:
            remove_orphaned_spill_folders()
            self._spill_folder = tempfile.TemporaryDirectory(prefix=f"{_SPILL_PREFIX}{os.getpid()}-")
        folder = Path(self._spill_folder.name)
        spilled = _Spilled(events=folder / f"{key}.events.arrow", rejected=folder / f"{key}.rejected.arrow")
        # lz4: files half the size of the frames in memory, for about 50 ms per 30,000 lines.
        parsed.events.write_ipc(spilled.events, compression="lz4")
        parsed.rejected.write_ipc(spilled.rejected, compression="lz4")
        return spilled

    def has(self, key: str) -> bool:
        return key in self._held or key in self._spilled

    def take(self, key: str) -> ParsedBronze | None:
        """The parse left under ``key``, at most once."""
        if key in self._spilled:
            return self._spilled.pop(key).read()
        parsed = self._held.pop(key, None)
        if parsed is not None:
            self._held_bytes -= _size(parsed)
        return parsed

    def rejected(self, key: str) -> tuple[pl.DataFrame, int] | None:
        """The rejected lines of the parse under ``key`` and how many lines it parsed; the parse stays."""
        if key in self._spilled:
            spilled = self._spilled[key]
            rejected = pl.read_ipc(spilled.rejected)
            return rejected, rejected.height + pl.scan_ipc(spilled.events).select(pl.len()).collect().item()
        parsed = self._held.get(key)
        return None if parsed is None else (parsed.rejected, parsed.lines)

    def refile(self, key: str, new_key: str) -> None:
        """The parse under ``key`` goes under ``new_key`` (unless one is there already)."""
        if self.has(new_key):
            self.discard(key)
        elif key in self._spilled:
            self._spilled[new_key] = self._spilled.pop(key)
        elif key in self._held:
            self._held[new_key] = self._held.pop(key)

    def discard(self, key: str) -> None:
        if key in self._spilled:
            self._spilled.pop(key).delete()
        elif key in self._held:
            self._held_bytes -= _size(self._held.pop(key))


class ParseAhead:
    """Bronze's lines parsed by arrival day on threads while they pass on to be written, then filed.

    A day is parsed as soon as its last frame has passed (frames come day by day, as landing files are
    read), at most ``THREADS`` days at once, so the parse runs beside Bronze's write instead of reading
    Bronze back after it. Each parse waits under a key of its own until ``file`` is told the table version
    that the write committed: the partitions' fingerprints at that version name those very lines.
    """

    def __init__(
        self,
        parse: Callable[[pl.DataFrame], ParsedBronze],
        fingerprints: Callable[[int], Mapping[dt.date, str]],
        parsed_days: ParsedDays,
        late_window_days: int,
    ):
        self._parse = parse
        self._fingerprints = fingerprints
        self._parsed_days = parsed_days
        self._late_window_days = late_window_days
        self._pending: dict[dt.date, str] = {}

    def watch(self, frames: Iterable[pl.DataFrame]) -> Iterator[pl.DataFrame]:
        threads = ThreadPoolExecutor(THREADS, thread_name_prefix="ecom-parse-ahead")
        in_flight: deque[tuple[dt.date, Future[ParsedBronze]]] = deque()
        day: dt.date | None = None
        lines: list[pl.DataFrame] = []
        try:
            for frame in frames:
                if frame.height:  # a file without lines has nothing to parse
                    if day is not None and frame["arrival_date"][0] != day:
                        self._submit(threads, in_flight, day, lines)
                        lines = []
                    day = frame["arrival_date"][0]
                    lines.append(frame)
                yield frame
            if day is not None:
                self._submit(threads, in_flight, day, lines)
            while in_flight:
                self._leave(*in_flight.popleft())
        finally:
            threads.shutdown(cancel_futures=True)

    def _submit(
        self,
        threads: ThreadPoolExecutor,
        in_flight: deque[tuple[dt.date, Future[ParsedBronze]]],
        day: dt.date,
        lines: list[pl.DataFrame],
    ) -> None:
        if day in self._pending or any(waiting == day for waiting, _ in in_flight):
            raise ValueError(f"Bronze frames of {day} came apart: a day's frames must come together")
        in_flight.append((day, threads.submit(self._parse, pl.concat(lines))))
        while len(in_flight) > THREADS:
            self._leave(*in_flight.popleft())

    def _leave(self, day: dt.date, parse: Future[ParsedBronze]) -> None:
        self._pending[day] = f"ahead-{uuid.uuid4().hex}-{day}"
        self._parsed_days.put(self._pending[day], parse.result())

    def file(self, version: int | None) -> None:
        """File each day's parse under its partition's fingerprint at ``version``; without one (no commit),
        drop them."""
        fingerprints = self._fingerprints(version) if version is not None else None
        for day, pending in self._pending.items():
            if fingerprints is not None and day in fingerprints:
                self._parsed_days.refile(pending, ParsedDays.key(fingerprints[day], self._late_window_days))
            else:
                self._parsed_days.discard(pending)
        self._pending.clear()
