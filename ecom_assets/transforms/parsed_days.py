"""Bronze arrival days parsed once per process, even across runs.

``ecom materialize`` runs ``silver/events_rejected`` (by arrival day) before ``silver/events`` (by event
date, reading the same arrival days): the first leaves each day's parse here and the second takes it
instead of decoding every line again. The parses held are capped in bytes (the oldest go first), so a
long range costs a second parse of some days rather than memory without bound. A parse is filed under
the fingerprint of the Bronze partition it read (``Lake.partition_fingerprints``) and the late window
it was judged by, so it is only ever taken for the very same lines and rules.
"""

from collections import OrderedDict

from ecom_assets.transforms.silver import ParsedBronze

DEFAULT_BUDGET_BYTES = 1_000_000_000


def _size(parsed: ParsedBronze) -> int:
    return int(parsed.events.estimated_size() + parsed.rejected.estimated_size())


class ParsedDays:
    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self._budget_bytes = budget_bytes
        self._held: OrderedDict[str, ParsedBronze] = OrderedDict()

    @staticmethod
    def key(partition_fingerprint: str, late_window_days: int) -> str:
        return f"{partition_fingerprint}-{late_window_days}"

    def put(self, key: str, parsed: ParsedBronze) -> None:
        self._held[key] = parsed
        while sum(map(_size, self._held.values())) > self._budget_bytes:
            self._held.popitem(last=False)

    def has(self, key: str) -> bool:
        return key in self._held

    def take(self, key: str) -> ParsedBronze | None:
        """The parse left under ``key``, at most once."""
        return self._held.pop(key, None)
