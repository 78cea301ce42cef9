"""Hand-made ``gold/fact_events`` rows for feature, label and model tests."""

import datetime as dt
import itertools

import dagster as dg
import numpy as np
import polars as pl

from ecom_assets.storage.lake import Lake
from ecom_assets.transforms.gold import FACT_EVENTS_SCHEMA

_ids = itertools.count()


def event(customer: str | None, day: dt.date, event_type: str, session: str = "s1", **fields) -> dict:
    """One event at noon of ``day``; purchases get revenue price*quantity like Gold computes it."""
    number = next(_ids)
    row = {
        "event_id": f"e{number}",
        "event_date": day,
        "event_ts": dt.datetime.combine(day, dt.time(12), dt.UTC),
        "event_type": event_type,
        "customer_id": customer,
        "anonymous_id": f"anon-{customer}",
        "session_id": f"{customer}-{session}",
        "channel": "web",
        "currency": "EUR",
        "revenue": 0.0,
        **fields,
    }
    if event_type == "purchase":
        row.setdefault("order_id", f"o{number}")
        row["revenue"] = row.get("price", 10.0) * row.get("quantity", 1)
    return row


def fact_events(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=FACT_EVENTS_SCHEMA)


def shop_history(customers: int, days: int, start: dt.date, seed: int = 0) -> pl.DataFrame:
    """Customers with a persistent propensity that drives both their visits and their purchases, so a
    model has something to learn; small enough for fast tests."""
    rng = np.random.default_rng(seed)
    propensity = rng.beta(1.0, 4.0, customers)
    rows = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        visits = np.flatnonzero(rng.random(customers) < 0.05 + 0.5 * propensity)
        for customer in visits:
            session, name = f"d{offset}", f"c{customer}"
            rows.append(
                event(name, day, "product_view", session, product_id=f"p{customer % 7}", category="k")
            )
            if rng.random() < propensity[customer] + 0.1:
                rows.append(event(name, day, "add_to_cart", session, product_id=f"p{customer % 7}"))
            if rng.random() < propensity[customer] * 0.6:
                rows.append(event(name, day, "purchase", session, price=20.0, quantity=1))
    return fact_events(rows)


def write_fact_events(
    lake: Lake, events: pl.DataFrame, instance: dg.DagsterInstance, unmaterialised: int = 0
) -> list[dt.date]:
    """``gold/fact_events`` written by hand, with the materialisations a run of it would have recorded
    (except for the last ``unmaterialised`` days); returns the event dates."""
    dates = sorted(set(events["event_date"]))
    lake.write_table("gold/fact_events", events, "event_date", dates)
    for day in dates[: len(dates) - unmaterialised]:
        instance.report_runless_asset_event(
            dg.AssetMaterialization(["gold", "fact_events"], partition=day.isoformat())
        )
    return dates
