"""Gold transforms on small frames: fact revenue and the customer dimension."""

import datetime as dt

import pytest

from ecom_assets.transforms.gold import build_dim_customer, build_fact_events
from ecom_assets.transforms.silver import build_silver
from ecom_assets_tests.factories import DAY, bronze, event, line, product_event


@pytest.fixture
def facts():
    lines = [
        line(event(1, session_id="s1", customer_id="c1", channel="web", country="DE")),
        line(product_event(2, "purchase", session_id="s1", price=10.0, quantity=3, order_id="o1")),
        line(product_event(3, "purchase", session_id="s1", price=5.0, quantity=1, order_id="o1")),
        line(product_event(4, "add_to_cart", session_id="s2", anonymous_id="a2", channel="app")),
        line(event(5, session_id="s3", customer_id="c1", channel="app", country="FR")),
    ]
    return build_fact_events(build_silver(bronze(lines), [DAY], late_window_days=3).events)


def test_revenue_is_price_times_quantity_on_purchases_only(facts):
    revenue = dict(zip(facts["event_id"], facts["revenue"], strict=True))
    assert revenue[event(2)["event_id"]] == 30.0
    assert revenue[event(3)["event_id"]] == 5.0
    assert revenue[event(4)["event_id"]] == 0.0
    assert facts["customer_id"].null_count() == 1


def test_dim_customer_has_one_row_per_known_customer(facts):
    dim = build_dim_customer(facts)
    assert dim["customer_id"].to_list() == ["c1"]
    row = dim.row(0, named=True)
    assert row["sessions"] == 2
    assert row["events"] == 4
    assert row["lifetime_orders"] == 1
    assert row["lifetime_revenue"] == 35.0
    assert row["country"] == "FR"
    assert row["web_share"] == pytest.approx(0.75)
    assert row["app_share"] == pytest.approx(0.25)
    assert row["first_seen_at"].date() == DAY
    assert row["last_purchase_at"] == dt.datetime(2026, 10, 1, 10, 3, tzinfo=dt.UTC)
