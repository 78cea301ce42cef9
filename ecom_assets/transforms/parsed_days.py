"""Bronze arrival days parsed once per process, even across runs.

``ecom materialize`` runs ``silver/events_rejected`` (by arrival day) before ``silver/events`` (by event
date, reading the same arrival days): the first leaves each day's parse here and the second takes it
instead of decoding every line again. Parses are held in memory up to a budget in bytes; past it, they
are spilled to Arrow IPC files in a temporary folder, read back (and deleted) when taken, so a long range
costs disk rather than memory without bound or a second parse. A parse is filed under the fingerprint of
the Bronze partition it read (``Lake.partition_fingerprints``) and the late window it was judged by, so
it is only ever taken for the very same lines and rules.
"""

import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ecom_assets.transforms.silver import ParsedBronze

DEFAULT_BUDGET_BYTES = 1_000_000_000


def _size(parsed: ParsedBronze) -> int:
    return int(parsed.events.estimated_size() + parsed.rejected.estimated_size())


@dataclass(frozen=True)
class _Spilled:
    events: Path
    rejected: Path

    def read(self) -> ParsedBronze:
        parsed = ParsedBronze(events=pl.read_ipc(self.events), rejected=pl.read_ipc(self.rejected))
        self.events.unlink()
        self.rejected.unlink()
        return parsed


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
            self._spill_folder = tempfile.TemporaryDirectory(prefix="ecom-parsed-days-")
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
