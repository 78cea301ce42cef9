"""The delivery faults a real event feed has, and how one valid event is turned into a malformed line."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, fields
from functools import cached_property

import orjson

from ecom_assets.events.schema import PRODUCT_EVENTS, QUANTITY_EVENTS, REQUIRED_FIELDS

# Each malformed line breaks the contract for exactly one reason, so a parser can classify it.
MALFORMED_KINDS = ("bad_json", "missing_field", "wrong_type", "unknown_event_type", "negative_price")
UNKNOWN_EVENT_TYPES = ("wishlist_add", "share", "PageView", "add-to-cart", "")


@dataclass(frozen=True)
class FaultRates:
    """Probability of each fault per event (per session for ``late`` and ``tz_offset``, which belong to
    the client: an offline app sends a whole session late, a device writes its own local time).

    Malformed kinds are mutually exclusive; duplicates re-deliver valid events only.
    """

    duplicate: float = 0.01
    late: float = 0.03
    out_of_order: float = 0.05
    tz_offset: float = 0.3
    bad_json: float = 0.001
    missing_field: float = 0.001
    wrong_type: float = 0.001
    unknown_event_type: float = 0.001
    negative_price: float = 0.001

    def __post_init__(self) -> None:
        for field in fields(self):
            rate = getattr(self, field.name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault rate {field.name}={rate}: must be between 0 and 1")
        if self.malformed_total > 1.0:
            raise ValueError(f"malformed fault rates add up to {self.malformed_total}: must be at most 1")

    @classmethod
    def none(cls) -> FaultRates:
        return cls(**{field.name: 0.0 for field in fields(cls)})

    @cached_property
    def malformed_total(self) -> float:
        return sum(getattr(self, kind) for kind in MALFORMED_KINDS)

    def pick_malformed(self, event: dict, rnd: random.Random) -> str | None:
        """The malformed kind this event gets, if any (``negative_price`` only hits product events)."""
        draw = rnd.random()
        if draw >= self.malformed_total:
            return None
        for kind in MALFORMED_KINDS:
            draw -= getattr(self, kind)
            if draw < 0:
                has_price = event["event_type"] in PRODUCT_EVENTS
                return None if kind == "negative_price" and not has_price else kind
        return None


def malformed_line(event: dict, kind: str, rnd: random.Random) -> str:
    """The line a broken producer would have sent for ``event`` instead of the valid one."""
    broken = dict(event)
    if kind == "bad_json":
        text = orjson.dumps(event).decode()
        if rnd.random() < 0.5:
            return text[: rnd.randrange(1, len(text) - 1)]  # cut off mid-write: no closing brace
        return repr(event)  # a Python dict printed instead of JSON: single quotes, None
    if kind == "missing_field":
        del broken[rnd.choice(REQUIRED_FIELDS)]
    elif kind == "wrong_type":
        _break_a_type(broken, rnd)
    elif kind == "unknown_event_type":
        broken["event_type"] = rnd.choice(UNKNOWN_EVENT_TYPES)
    elif kind == "negative_price":
        broken["price"] = -broken["price"] if broken["price"] > 0 else -1.0
    else:
        raise ValueError(f"malformed kind {kind!r}: expected one of {', '.join(MALFORMED_KINDS)}")
    return orjson.dumps(broken).decode()


def _break_a_type(event: dict, rnd: random.Random) -> None:
    if event["event_type"] in QUANTITY_EVENTS and rnd.random() < 0.5:
        event["quantity"] = str(event["quantity"])
    elif event["event_type"] in PRODUCT_EVENTS:
        event["price"] = f"{event['price']:.2f} EUR".replace(".", ",")
    else:
        # epoch seconds as a JSON number where the contract wants an ISO 8601 string
        event["event_ts"] = dt.datetime.fromisoformat(event["event_ts"]).timestamp()
