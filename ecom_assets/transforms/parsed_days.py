"""Bronze arrival days parsed once per process, even across runs.

``ecom materialize`` runs ``silver/events_rejected`` (by arrival day) before ``silver/events`` (by event
date, reading the same arrival days): the first leaves each day's parse here and the second takes it
instead of decoding every line again. The parses held are capped in bytes: once full, later days are
not kept (Silver takes days oldest first, so what it holds shrinks as it goes), and a long range costs
a second parse of its last days rather than memory without bound. A parse is filed under
the fingerprint of the Bronze partition it read (``Lake.partition_fingerprints``) and the late window
it was judged by, so it is only ever taken for the very same lines and rules.
"""

from ecom_assets.transforms.silver import ParsedBronze

DEFAULT_BUDGET_BYTES = 1_000_000_000


def _size(parsed: ParsedBronze) -> int:
    return int(parsed.events.estimated_size() + parsed.rejected.estimated_size())


class ParsedDays:
    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self._budget_bytes = budget_bytes
        self._held: dict[str, ParsedBronze] = {}
        self._held_bytes = 0

    @staticmethod
    def key(partition_fingerprint: str, late_window_days: int) -> str:
        return f"{partition_fingerprint}-{late_window_days}"

    def put(self, key: str, parsed: ParsedBronze) -> None:
        size = _size(parsed)
        if key not in self._held and self._held_bytes + size <= self._budget_bytes:
            self._held[key] = parsed
            self._held_bytes += size

    def has(self, key: str) -> bool:
        return key in self._held

    def take(self, key: str) -> ParsedBronze | None:
        """The parse left under ``key``, at most once."""
        parsed = self._held.pop(key, None)
        if parsed is not None:
            self._held_bytes -= _size(parsed)
        return parsed
