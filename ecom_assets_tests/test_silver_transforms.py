"""Silver transforms on small hand-made frames: every reject reason, dedup, late events, back-fill."""

import datetime as dt

import polars as pl
import pytest

from ecom_assets.transforms.silver import build_silver, parse_bronze
from ecom_assets_tests.factories import DAY, bronze, event, line, product_event


def only_reject(raw: str, arrival_date: dt.date = DAY) -> tuple[str, str]:
    parsed = parse_bronze(bronze([raw], arrival_date), late_window_days=3)
    assert parsed.events.height == 0, "the line should have been rejected"
    assert parsed.rejected.height == 1
    row = parsed.rejected.row(0, named=True)
    assert row["raw"] == raw and row["line_number"] == 1
    return row["reason"], row["reason_detail"]


@pytest.mark.parametrize(
    ("raw", "reason", "detail"),
    [
        ('{"event_id": "x"', "invalid_json", None),
        ("[1, 2]", "not_an_object", None),
        (
            line({k: v for k, v in event(1).items() if k != "session_id"}),
            "missing_required_field",
            "session_id",
        ),
        (line(event(1, anonymous_id=None)), "missing_required_field", "anonymous_id"),
        (line(event(1, session_id="")), "missing_required_field", "session_id"),
        (line(event(1, event_id="not-a-uuid")), "invalid_value", "event_id"),
        (line(event(1, event_type="teleport")), "unknown_event_type", "event_type"),
        (line(event(1, event_ts="2026-10-01T10:00:00")), "invalid_timestamp", "event_ts"),
        (line(event(1, event_ts="2026-13-01T10:00:00Z")), "invalid_timestamp", "event_ts"),
        (line(event(1, event_ts=1700000000)), "wrong_type", "event_ts"),
        (line(product_event(1, price="12.50")), "wrong_type", "price"),
        (line(product_event(1, "add_to_cart", quantity="2")), "wrong_type", "quantity"),
        (line(product_event(1, "add_to_cart", quantity=True)), "wrong_type", "quantity"),
        (line(product_event(1, price=-1.0)), "negative_price", "price"),
        (line(product_event(1, "add_to_cart", quantity=0)), "invalid_quantity", "quantity"),
        (line(product_event(1, product_id=None)), "missing_required_field", "product_id"),
        (line(product_event(1, price=None)), "missing_required_field", "price"),
        (line(product_event(1, "purchase", order_id=None)), "missing_required_field", "order_id"),
        (line(event(1, channel="fax")), "invalid_value", "channel"),
        (line(event(1, currency="euro")), "invalid_value", "currency"),
        (line(event(1, customer_id=42)), "wrong_type", "customer_id"),
        (line(event(1, event_ts="2026-10-02T00:00:01Z")), "event_after_arrival", "event_ts"),
        (line(event(1, event_ts="2026-09-27T23:59:59Z")), "late_beyond_window", "event_ts"),
    ],
)
def test_every_reject_reason_is_named(raw, reason, detail):
    got_reason, got_detail = only_reject(raw)
    assert got_reason == reason
    if detail is not None:
        assert got_detail == detail


def test_valid_events_are_typed_and_normalised_to_utc():
    lines = [
        line(event(1, event_ts="2026-10-01T01:30:00.250+02:00")),
        line(product_event(2, "add_to_cart", quantity=None, extra_field={"kept": "in bronze"})),
        line(product_event(3, price=5)),
    ]
    parsed = parse_bronze(bronze(lines), late_window_days=3)
    assert parsed.rejected.height == 0
    events = parsed.events.sort("event_id")
    first = events.row(0, named=True)
    assert first["event_ts"] == dt.datetime(2026, 9, 30, 23, 30, 0, 250000, tzinfo=dt.UTC)
    assert first["event_date"] == dt.date(2026, 9, 30)
    assert first["currency"] == "EUR"
    assert events["quantity"].to_list() == [None, 1, None]
    assert events["price"].to_list() == [None, 20.0, 5.0]


def test_late_event_lands_on_its_event_date_and_future_dates_are_excluded():
    late = line(event(1, event_ts="2026-09-29T12:00:00Z"))
    today = line(event(2))
    result = build_silver(bronze([late, today]), [dt.date(2026, 9, 29)], late_window_days=3)
    assert result.events["event_id"].to_list() == [event(1)["event_id"]]
    assert result.events["event_date"].to_list() == [dt.date(2026, 9, 29)]
    assert result.events["arrival_date"].to_list() == [DAY]


def test_duplicates_keep_the_first_delivery_across_arrival_days():
    original = line(event(1, device="first"))
    redelivered = line(event(1, device="second"))
    # The redelivery comes first in the frame: only arrival order may pick the original.
    frames = pl.concat(
        [bronze([redelivered], DAY + dt.timedelta(days=1), "g.jsonl"), bronze([original, line(event(2))])]
    )
    result = build_silver(frames, [DAY], late_window_days=3)
    assert result.events.height == 2
    assert result.duplicates == 1
    kept = result.events.filter(pl.col("event_id") == event(1)["event_id"]).row(0, named=True)
    assert kept["device"] == "first"
    assert kept["arrival_date"] == DAY


def test_session_backfill_names_events_before_and_after_login():
    lines = [
        line(event(1, event_ts="2026-10-01T10:00:00Z")),
        line(event(2, event_type="login", customer_id="c1", event_ts="2026-10-01T10:05:00Z")),
        line(event(3, event_ts="2026-10-01T10:10:00Z")),
        line(event(4, session_id="s2", event_ts="2026-10-01T10:00:00Z")),
    ]
    result = build_silver(bronze(list(reversed(lines))), [DAY], late_window_days=3)
    by_id = {row["event_id"]: row for row in result.events.iter_rows(named=True)}
    assert [by_id[event(n)["event_id"]]["customer_id"] for n in (1, 2, 3, 4)] == ["c1", "c1", "c1", None]
    assert [by_id[event(n)["event_id"]]["customer_id_backfilled"] for n in (1, 2, 3, 4)] == [
        True,
        False,
        True,
        False,
    ]


def test_relogin_as_another_customer_switches_from_that_event_on():
    lines = [
        line(event(1, event_type="login", customer_id="c1", event_ts="2026-10-01T10:00:00Z")),
        line(event(2, event_type="login", customer_id="c2", event_ts="2026-10-01T10:05:00Z")),
        line(event(3, event_ts="2026-10-01T10:10:00Z")),
    ]
    result = build_silver(bronze(lines), [DAY], late_window_days=3)
    assert result.events.sort("event_ts")["customer_id"].to_list() == ["c1", "c2", "c2"]


def test_every_line_is_one_event_one_reject_or_one_duplicate():
    lines = [line(event(1)), line(event(1)), "nope", line(event(2, event_type="x")), line(event(3))]
    result = build_silver(bronze(lines), [DAY], late_window_days=3)
    assert result.events.height + result.rejected.height + result.duplicates == len(lines)
    assert sorted(result.rejected["line_number"].to_list()) == [3, 4]
