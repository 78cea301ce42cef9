"""The event simulator: contract-valid lines, exactly the faults asked for, and honest summary counts."""

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import replace

import orjson
import pytest

from ecom_assets.cli import main
from ecom_assets.events.landing import LANDING_ROOT, read_landing_lines
from ecom_assets.events.schema import CHANNELS, EVENT_TYPES, PRODUCT_EVENTS, QUANTITY_EVENTS, REQUIRED_FIELDS
from ecom_assets.events.simulator import MALFORMED_KINDS, FaultRates, generate, simulate
from ecom_assets.storage.lake import Lake

START = dt.date(2026, 11, 2)
SMALL = {"start": START, "days": 5, "customers": 200, "seed": 11}
TS_PATTERN = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)")
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def violation(line: str) -> str | None:
    """Which malformed kind a landing line is, judged against CONTRACT.md section 1 alone (None: valid)."""
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return "bad_json"
    if not isinstance(event, dict) or any(name not in event for name in REQUIRED_FIELDS):
        return "missing_field"
    if event["event_type"] not in EVENT_TYPES:
        return "unknown_event_type"
    if not _types_ok(event):
        return "wrong_type"
    if event["event_type"] in PRODUCT_EVENTS and event["price"] < 0:
        return "negative_price"
    return None


def _types_ok(event: dict) -> bool:
    kind = event["event_type"]
    strings = ["event_id", "event_ts", "session_id", "anonymous_id", "device", "country"]
    if kind in PRODUCT_EVENTS:
        strings += ["product_id", "category", "brand"]
    if kind == "purchase":
        strings.append("order_id")
    number = (int, float)
    return (
        all(isinstance(event.get(name), str) for name in strings)
        and bool(UUID_PATTERN.fullmatch(event["event_id"]))
        and bool(TS_PATTERN.fullmatch(event["event_ts"]))
        and (event["customer_id"] is None or isinstance(event["customer_id"], str))
        and event["channel"] in CHANNELS
        and event["schema_version"] == 1
        and (kind not in PRODUCT_EVENTS or isinstance(event["price"], number))
        and (kind not in PRODUCT_EVENTS or event["currency"] == "EUR")
        and (kind not in QUANTITY_EVENTS or (type(event["quantity"]) is int and event["quantity"] >= 1))
    )


def lines_by_arrival(**overrides) -> list[tuple[dt.date, str]]:
    arguments = {**SMALL, "faults": FaultRates.none(), **overrides}
    return [(arrival, line) for arrival, lines in generate(**arguments) for line in lines]


def utc(event: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(event["event_ts"]).astimezone(dt.UTC)


def valid_events(lines: list[tuple[dt.date, str]]) -> list[tuple[dt.date, dict]]:
    return [(arrival, orjson.loads(line)) for arrival, line in lines if violation(line) is None]


def simulate_into(lake: Lake, **overrides):
    return simulate(lake, **{**SMALL, "progress": False, **overrides})


def landing_files(lake: Lake) -> dict[str, bytes]:
    paths = [path for folder in lake.list_files(LANDING_ROOT) for path in lake.list_files(folder)]
    return {path: lake.read_bytes(path) for path in paths}


def landing_lines(lake: Lake) -> list[str]:
    return [line for path in landing_files(lake) for line in read_landing_lines(lake, path)]


def test_same_arguments_write_byte_identical_files(tmp_path):
    first, second = Lake(str(tmp_path / "a")), Lake(str(tmp_path / "b"))
    simulate_into(first)
    simulate_into(second)
    assert landing_files(first) == landing_files(second)
    assert landing_files(first)
    other_seed = lines_by_arrival(seed=12, faults=FaultRates())
    assert other_seed != lines_by_arrival(faults=FaultRates())


def test_without_faults_every_line_is_valid_utc_unique_and_in_order():
    lines = lines_by_arrival()
    assert lines and all(violation(line) is None for _, line in lines)
    events = valid_events(lines)
    assert all(event["event_ts"].endswith("Z") for _, event in events)
    assert len({event["event_id"] for _, event in events}) == len(events)
    assert all(arrival == utc(event).date() for arrival, event in events)
    for arrival in {arrival for arrival, _ in events}:
        instants = [utc(event) for day, event in events if day == arrival]
        assert instants == sorted(instants)


def test_the_funnel_has_every_event_type_and_multi_product_orders():
    events = [event for _, event in valid_events(lines_by_arrival())]
    assert set(Counter(event["event_type"] for event in events)) == set(EVENT_TYPES)
    lines_per_order = Counter(event["order_id"] for event in events if event["event_type"] == "purchase")
    assert max(lines_per_order.values()) > 1
    assert {event["channel"] for event in events} == {"web", "app"}


@pytest.mark.parametrize("kind", MALFORMED_KINDS)
def test_each_malformed_kind_is_invalid_for_exactly_that_reason(kind, lake):
    faults = replace(FaultRates.none(), **{kind: 0.05})
    summary = simulate_into(lake, faults=faults)
    verdicts = Counter(violation(line) for line in landing_lines(lake))
    assert verdicts[kind] == summary.malformed[kind] > 0
    assert set(verdicts) == {None, kind}
    assert sum(summary.malformed.values()) == summary.malformed[kind]


def test_duplicates_are_exact_redeliveries_within_the_late_window():
    lines = lines_by_arrival(faults=replace(FaultRates.none(), duplicate=0.1))
    by_id = defaultdict(list)
    for arrival, line in lines:
        by_id[orjson.loads(line)["event_id"]].append((arrival, line))
    copies = [deliveries for deliveries in by_id.values() if len(deliveries) > 1]
    assert len(copies) > 20 and all(len(deliveries) == 2 for deliveries in copies)
    for (first_arrival, first), (again_arrival, again) in copies:
        assert again == first
        event_date = utc(orjson.loads(first)).date()
        assert event_date <= first_arrival <= again_arrival <= event_date + dt.timedelta(days=3)


def test_late_events_arrive_one_to_three_days_after_their_event_date():
    lines = lines_by_arrival(faults=replace(FaultRates.none(), late=0.2))
    delays = Counter((arrival - utc(event).date()).days for arrival, event in valid_events(lines))
    assert set(delays) == {0, 1, 2, 3}
    assert 0.1 < (len(lines) - delays[0]) / len(lines) < 0.3


def test_client_offsets_change_the_text_but_not_the_instant():
    plain = {event["event_id"]: event for _, event in valid_events(lines_by_arrival())}
    shifted = valid_events(lines_by_arrival(faults=replace(FaultRates.none(), tz_offset=0.5)))
    with_offset = [event for _, event in shifted if not event["event_ts"].endswith("Z")]
    assert 0.35 < len(with_offset) / len(shifted) < 0.65
    assert all(utc(event) == utc(plain[event["event_id"]]) for _, event in shifted)
    assert len(shifted) == len(plain)


def test_out_of_order_lines_break_the_timestamp_order_of_their_file():
    lines = lines_by_arrival(faults=replace(FaultRates.none(), out_of_order=0.2))
    events = valid_events(lines)
    pairs = zip(events, events[1:], strict=False)
    inversions = sum(utc(later) < utc(earlier) for (_, earlier), (_, later) in pairs)
    assert inversions > len(events) * 0.05


def test_summary_counts_equal_what_is_in_the_files(lake):
    faults = FaultRates(duplicate=0.05, late=0.05, bad_json=0.01, missing_field=0.01, negative_price=0.01)
    summary = simulate_into(lake, faults=faults)
    files = landing_files(lake)
    lines = landing_lines(lake)
    verdicts = Counter(violation(line) for line in lines)
    valid_ids = [orjson.loads(line)["event_id"] for line in lines if violation(line) is None]
    arrivals = sorted({dt.date.fromisoformat(path.split("date=")[1][:10]) for path in files})
    assert summary.files == len(files)
    assert (summary.first_arrival, summary.last_arrival) == (arrivals[0], arrivals[-1])
    assert summary.lines == len(lines)
    assert summary.duplicates == len(valid_ids) - len(set(valid_ids)) > 0
    assert summary.events == len(set(valid_ids)) + sum(summary.malformed.values())
    assert {kind: verdicts[kind] for kind in MALFORMED_KINDS} == summary.malformed
    assert str(summary.events) in str(summary).replace(",", "")


def test_login_turns_an_anonymous_session_into_a_known_customer():
    sessions = defaultdict(list)
    for _, event in valid_events(lines_by_arrival()):
        sessions[event["session_id"]].append(event)
    with_login = anonymous = known_from_start = 0
    for events in sessions.values():
        events.sort(key=utc)
        assert len({event["anonymous_id"] for event in events}) == 1
        customers = [event["customer_id"] for event in events]
        kinds = [event["event_type"] for event in events]
        if "login" in kinds:
            at = kinds.index("login")
            assert all(customer is None for customer in customers[:at])
            assert customers[at] is not None and set(customers[at:]) == {customers[at]}
            with_login += 1
        elif customers[0] is None:
            assert set(customers) == {None} and "purchase" not in kinds
            anonymous += 1
        else:
            assert events[0]["channel"] == "app" and len(set(customers)) == 1
            known_from_start += 1
    assert min(with_login, anonymous, known_from_start) > 20


def test_drift_from_doubles_cart_rate_and_raises_prices():
    drift_day = START + dt.timedelta(days=2)

    def after_drift(drift_from):
        events = [event for _, event in valid_events(lines_by_arrival(drift_from=drift_from))]
        return [event for event in events if utc(event).date() >= drift_day]

    def cart_rate(events):
        kinds = Counter(event["event_type"] for event in events)
        return kinds["add_to_cart"] / kinds["product_view"]

    def prices(events):
        return {
            event["product_id"]: event["price"] for event in events if event["event_type"] == "product_view"
        }

    steady, drifted = after_drift(None), after_drift(drift_day)
    assert cart_rate(drifted) > 1.5 * cart_rate(steady)
    # the same products, 30% dearer (compared product by product: the mix viewed differs between runs)
    before, after = prices(steady), prices(drifted)
    both = before.keys() & after.keys()
    assert len(both) > 20
    assert all(after[product] == pytest.approx(before[product] * 1.3, abs=0.01) for product in both)


def test_fault_rates_outside_zero_to_one_are_refused():
    with pytest.raises(ValueError, match="late=1.5"):
        FaultRates(late=1.5)


def test_ecom_simulate_writes_the_landing_zone(capsys):
    main(["simulate", "--start", "2026-11-02", "--days", "2", "--customers", "50", "--seed", "3"])
    assert "50 customers" in capsys.readouterr().out
    lake = Lake.from_settings()
    assert lake.list_files(f"{LANDING_ROOT}/date=2026-11-02")


def test_ecom_simulate_with_zero_days_fails_in_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["simulate", "--start", "2026-11-02", "--days", "0"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "days=0" in error


def _orders_and_browsing(share: float) -> tuple[dict[str, list[dt.date]], float]:
    """Order days per customer, and page/product views and searches per order, over 45 days."""
    lines = lines_by_arrival(days=45, customers=150, replenishment_share=share)
    order_days, views, orders = defaultdict(set), 0, set()
    for _, event in valid_events(lines):
        views += event["event_type"] in ("page_view", "product_view", "search")
        if event["event_type"] == "purchase":
            order_days[event["customer_id"]].add(utc(event).date())
            orders.add(event["order_id"])
    return {customer: sorted(days) for customer, days in order_days.items()}, views / len(orders)


def _gap_spread(days: list[dt.date]) -> float:
    gaps = [(later - earlier).days for earlier, later in zip(days, days[1:], strict=False)]
    mean = sum(gaps) / len(gaps)
    return (sum((gap - mean) ** 2 for gap in gaps) / len(gaps)) ** 0.5 / mean


def test_replenishment_buyers_reorder_on_their_own_cadence_and_barely_browse():
    cadenced, cadenced_views = _orders_and_browsing(share=1.0)
    browsers, browser_views = _orders_and_browsing(share=0.0)
    regular = [_gap_spread(days) for days in cadenced.values() if len(days) >= 4]
    assert len(regular) > 20 and len(cadenced) > 2 * len(browsers)
    # a cadence of 7-30 days with 15% jitter: gaps vary little around each customer's own mean
    assert sorted(regular)[len(regular) // 2] < 0.3
    assert cadenced_views < 15 < 50 < browser_views


def test_ecom_simulate_refuses_a_replenishment_share_outside_zero_to_one(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["simulate", "--start", "2026-11-02", "--days", "1", "--replenishment-share", "1.5"])
    assert exit_info.value.code == 2
    assert "replenishment_share=1.5: use a share between 0 and 1" in capsys.readouterr().err
