"""Feature and label definitions on small hand-made frames, and point-in-time correctness."""

import datetime as dt

import numpy as np
import polars as pl
import pytest

from ecom_assets.events.schema import EVENT_TYPES
from ecom_assets.transforms.activity import build_customer_daily_activity
from ecom_assets.transforms.features import (
    FEATURE_NAMES,
    build_customer_daily_features,
    features_from_facts,
    no_activity_features,
)
from ecom_assets.transforms.labels import LABEL, build_label_purchase_next_7d
from ecom_assets_tests.fact_events_factory import event, fact_events

D = dt.date(2026, 10, 31)


def days(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


def _row(frame: pl.DataFrame, customer: str) -> dict:
    rows = frame.filter(pl.col("customer_id") == customer).to_dicts()
    assert len(rows) == 1
    return rows[0]


def test_feature_table_has_one_float_column_per_feature():
    features = features_from_facts(fact_events([event("c1", D, "login")]), [D])
    assert features.columns == ["customer_id", "as_of_date", *FEATURE_NAMES]
    assert all(features[name].dtype == pl.Float64 for name in FEATURE_NAMES)
    assert set(no_activity_features()) == set(FEATURE_NAMES)


def test_windows_counts_recency_and_ratios():
    rows = [
        event("c1", D, "product_view", product_id="p1", category="shoes"),
        event("c1", D, "product_view", product_id="p2", category="shoes"),
        event("c1", D, "add_to_cart", product_id="p1"),
        event("c1", D, "purchase", product_id="p1", price=20.0, quantity=2, order_id="o1"),
        event("c1", days(-3), "page_view", session="s2", channel="app"),
        event("c1", days(-3), "search", session="s2", channel="app"),
        event("c1", days(-20), "page_view", session="s3"),
        event("c1", days(-28), "purchase", session="s4", price=99.0),  # one day before the 28-day window
        event("c1", days(1), "purchase", session="s5", price=99.0),  # after D
        event(None, D, "purchase", price=99.0),  # anonymous
    ]
    c1 = _row(features_from_facts(fact_events(rows), [D]), "c1")
    assert (c1["sessions_1d"], c1["sessions_7d"], c1["sessions_28d"]) == (1, 2, 3)
    assert (c1["product_views_1d"], c1["page_views_1d"], c1["page_views_7d"], c1["page_views_28d"]) == (
        2,
        0,
        1,
        2,
    )
    assert (c1["searches_7d"], c1["add_to_carts_1d"], c1["purchases_28d"], c1["orders_28d"]) == (1, 1, 1, 1)
    assert (c1["revenue_1d"], c1["revenue_28d"], c1["avg_order_value_28d"]) == (40.0, 40.0, 40.0)
    assert (c1["distinct_products_28d"], c1["distinct_categories_28d"]) == (2, 1)
    assert (c1["days_since_last_visit"], c1["days_since_last_cart"], c1["days_since_last_purchase"]) == (
        0,
        0,
        0,
    )
    assert (c1["tenure_days"], c1["active_days_28d"]) == (28, 3)
    assert (c1["orders_90d"], c1["revenue_90d"], c1["order_days_90d"]) == (2, 139.0, 2)
    assert (c1["cart_to_view_28d"], c1["purchase_to_cart_28d"], c1["cart_abandonment_28d"]) == (0.5, 1.0, 0.0)
    assert c1["app_share_28d"] == pytest.approx(2 / 7)


def test_abandoned_cart_and_unseen_purchase():
    rows = [
        event("c2", days(-2), "add_to_cart", product_id="p1"),
        event("c2", days(-1), "add_to_cart", session="s2", product_id="p1"),
        event("c2", days(-1), "remove_from_cart", session="s2", product_id="p1"),
        event("c3", days(-90), "purchase"),  # one day before the 90-day look-back
    ]
    features = features_from_facts(fact_events(rows), [D])
    assert features["customer_id"].to_list() == ["c2"]  # c3 is not active in the window
    c2 = _row(features, "c2")
    assert (c2["cart_abandonment_28d"], c2["purchase_to_cart_28d"], c2["cart_to_view_28d"]) == (1.0, 0.0, 0.0)
    assert (c2["days_since_last_cart"], c2["days_since_last_purchase"], c2["remove_from_carts_7d"]) == (
        1,
        90,
        1,
    )
    assert {name: c2[name] for name in no_activity_features() if "order" in name} == {
        name: value for name, value in no_activity_features().items() if "order" in name
    }


def test_ranged_run_computes_each_date_from_its_own_window():
    rows = [event("c1", days(-28), "page_view"), event("c1", D, "page_view", session="s2")]
    features = features_from_facts(fact_events(rows), [days(-1), D])
    assert features.select("as_of_date", "page_views_28d", "tenure_days").rows() == [
        (days(-1), 1.0, 27.0),
        (D, 1.0, 28.0),  # tenure counts from the first day ever seen, before the look-back too
    ]
    assert features_from_facts(fact_events(rows), []).columns == features.columns


def test_label_looks_only_at_the_next_seven_days():
    rows = [
        event("c1", D, "page_view"),
        event("c2", D, "page_view"),
        event("c3", D, "page_view"),
        event("c1", days(7), "purchase"),
        event("c2", days(8), "purchase"),
        event("c3", D, "purchase"),
        event("c4", days(1), "purchase"),  # not in features(D): no label row
    ]
    events = fact_events(rows)
    labels = build_label_purchase_next_7d(features_from_facts(events, [D]), events)
    assert labels.select("customer_id", LABEL).rows() == [("c1", 1), ("c2", 0), ("c3", 0)]


def _random_events(rng: np.random.Generator, n: int, first: int, last: int) -> list[dict]:
    types = [event_type for event_type in EVENT_TYPES if event_type != "login"]
    return [
        event(
            f"c{rng.integers(8)}",
            days(int(rng.integers(first, last + 1))),
            types[rng.integers(len(types))],
            session=f"s{rng.integers(5)}",
            product_id=f"p{rng.integers(6)}",
            category=f"k{rng.integers(3)}",
            price=float(rng.integers(1, 50)),
            channel=["web", "app"][rng.integers(2)],
        )
        for _ in range(n)
    ]


@pytest.mark.parametrize("seed", range(5))
def test_point_in_time_correctness(seed):
    """Events after D never change features(D), every feature included (the customer dimension they read
    first dates from is built from all events, future ones too); label(D) changes only with events in
    D+1 .. D+7."""
    rng = np.random.default_rng(seed)
    past, horizon, beyond = (
        _random_events(rng, 300, -120, 0),
        _random_events(rng, 60, 1, 7),
        _random_events(rng, 60, 8, 20),
    )
    features = features_from_facts(fact_events(past + horizon + beyond), [D])
    labels = build_label_purchase_next_7d(features, fact_events(past + horizon + beyond))

    kept_future = [row for row in horizon + beyond if rng.random() < 0.5]
    changed_future = [{**row, "event_type": "purchase", "customer_id": "c0"} for row in kept_future]
    assert features_from_facts(fact_events(past), [D]).equals(features)
    assert features_from_facts(fact_events(past + changed_future), [D]).equals(features)

    changed_past = [{**row, "event_type": "purchase"} for row in past]
    changed_beyond = [{**row, "event_type": "purchase"} for row in beyond]
    assert build_label_purchase_next_7d(features, fact_events(horizon)).equals(labels)
    assert build_label_purchase_next_7d(
        features, fact_events(changed_past + horizon + changed_beyond)
    ).equals(labels)

    no_horizon_purchases = [row for row in horizon if row["event_type"] != "purchase"]
    if labels[LABEL].sum():
        assert not build_label_purchase_next_7d(
            features, fact_events(past + no_horizon_purchases + beyond)
        ).equals(labels)


def test_daily_activity_has_one_row_per_customer_and_day():
    rows = [
        event("c1", D, "product_view", product_id="p1", category="shoes"),
        event("c1", D, "product_view", product_id="p1", category="shoes"),
        event("c1", D, "add_to_cart", product_id="p2", category="bags"),
        event("c1", D, "page_view", session="s2", channel="app"),
        event("c1", D, "purchase", session="s2", price=5.0, quantity=3, order_id="o1"),
        event("c1", D, "purchase", session="s2", price=1.0, order_id="o1"),
        event("c1", days(-1), "add_to_cart", product_id="p3"),
        event(None, D, "purchase", price=99.0),
    ]
    activity = build_customer_daily_activity(fact_events(rows))
    assert activity.select("customer_id", "event_date").rows() == [("c1", days(-1)), ("c1", D)]
    today = activity.row(1, named=True)
    assert (today["sessions"], today["product_views"], today["purchases"], today["orders"]) == (2, 2, 2, 1)
    assert (today["revenue"], today["products"], today["categories"]) == (
        16.0,
        ["p1", "p2"],
        ["bags", "shoes"],
    )
    assert (today["carted_sessions"], today["abandoned_sessions"], today["app_events"]) == (1, 1, 1)
    assert activity.row(0, named=True)["abandoned_sessions"] == 1


def test_repeat_buyer_features_follow_the_customers_own_cadence():
    orders = [
        event("c1", days(offset), "purchase", session=f"s{offset}", price=10.0) for offset in (-70, -50, -20)
    ]
    rows = [event("c1", days(-200), "purchase", session="first"), *orders, event("c2", D, "page_view")]
    features = features_from_facts(fact_events(rows), [D])
    c1 = _row(features, "c1")
    assert (c1["orders_90d"], c1["revenue_90d"], c1["order_days_90d"], c1["active_weeks_90d"]) == (
        3,
        30,
        3,
        3,
    )
    assert (c1["order_gap_mean_90d"], c1["order_gap_std_90d"]) == (25.0, 5.0)
    assert (c1["days_since_last_purchase"], c1["order_gap_elapsed"]) == (20.0, 0.8)
    # first order and first visit were 200 days ago, long before the look-back: capped at 90
    assert (c1["days_since_first_order"], c1["tenure_days"]) == (90.0, 90.0)
    c2 = _row(features, "c2")
    assert (c2["orders_90d"], c2["order_gap_mean_90d"], c2["days_since_first_order"]) == (0, 90.0, 0.0)


def test_first_dates_after_d_are_not_known_at_d():
    activity = build_customer_daily_activity(fact_events([event("c1", D, "page_view")]))
    later = pl.DataFrame(
        {"customer_id": ["c1"], "first_seen_date": [days(-5)], "first_order_date": [days(3)]},
        schema={"customer_id": pl.String, "first_seen_date": pl.Date, "first_order_date": pl.Date},
    )
    c1 = _row(build_customer_daily_features(activity, [D], later), "c1")
    assert (c1["tenure_days"], c1["days_since_first_order"]) == (5.0, 0.0)
