"""Model quality and training time on simulator data: the model against the naive recency baseline, on the
full clickstream and on purchase events only (what an order-history shop has).

    .venv/bin/python bench/model_quality.py [--days 60] [--customers 2000] [--replenishment-share 0.2]

Simulates a shop into a temporary lake, materialises Bronze .. labels by range runs, then trains on the
labelled as-of dates past the warm-up (as ``ml/propensity_model`` does) and prints validation metrics next
to the baseline's. The purchase-only run drops every non-purchase fact before features and labels.
The issue's bar: ROC-AUC >= 0.80 and >= 0.08 above the baseline; purchase-only >= 0.08 above it.
"""

import argparse
import datetime as dt
import tempfile
import time

import dagster as dg
import polars as pl

from ecom_assets.definitions import defs
from ecom_assets.defs.partitions import partition_range_tags
from ecom_assets.defs.resources import build_resources
from ecom_assets.events.simulator import simulate
from ecom_assets.keys import FACT_EVENTS
from ecom_assets.ml.dataset import KEYS, load_training_set
from ecom_assets.ml.readiness import training_dates
from ecom_assets.ml.train import train
from ecom_assets.storage.lake import Lake
from ecom_assets.transforms.features import features_from_facts
from ecom_assets.transforms.labels import LABEL_HORIZON_DAYS, build_label_purchase_next_7d

SHOWN = ("roc_auc", "pr_auc", "brier", "lift_top10", "precision_top10")
GOLD = (
    'key:"silver/events" or key:"gold/fact_events" or key:"gold/dim_customer" '
    'or key:"gold/customer_daily_activity" or key:"gold/customer_daily_features"'
)


def build_lake(uri: str, start: dt.date, days: int, customers: int, seed: int, share: float) -> None:
    end = start + dt.timedelta(days=days - 1)
    simulate(
        Lake(uri),
        start=start,
        days=days,
        customers=customers,
        seed=seed,
        progress=False,
        replenishment_share=share,
    )
    steps = [
        ("group:bronze", end + dt.timedelta(days=3)),
        (GOLD, end),
        ('key:"gold/label_purchase_next_7d"', end - dt.timedelta(days=LABEL_HORIZON_DAYS)),
    ]
    instance = dg.DagsterInstance.ephemeral()  # one for all steps: labels check what earlier runs made
    for selection, last in steps:
        dg.materialize(
            [asset for asset in defs.assets or () if isinstance(asset, dg.AssetsDefinition | dg.AssetSpec)],
            selection=selection,
            instance=instance,
            resources=build_resources(uri),
            tags=partition_range_tags(start, last),
        )


def purchases_only(facts: pl.DataFrame, dates: list[dt.date]) -> pl.DataFrame:
    """The training set an order-history shop would have: features and labels from purchase facts alone."""
    purchases = facts.filter(pl.col("event_type") == "purchase")
    features = features_from_facts(purchases, dates)
    return features.join(build_label_purchase_next_7d(features, purchases), on=KEYS).sort(KEYS)


def report(title: str, dataset: pl.DataFrame) -> None:
    for estimator in ("hist_gradient_boosting", "logistic_regression"):
        started = time.perf_counter()
        result = train(dataset, estimator)
        seconds = time.perf_counter() - started
        metrics = result.metrics
        print(
            f"{title}, {estimator}: {result.split.kind} split, {int(metrics['train_rows']):,} train / "
            f"{int(metrics['validation_rows']):,} validation rows, trained in {seconds:.1f}s"
        )
        for name in SHOWN:
            model, baseline = metrics[name], metrics[f"baseline_{name}"]
            print(
                f"  {name:16} model {model:.3f}  recency baseline {baseline:.3f}  "
                f"difference {model - baseline:+.3f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--replenishment-share", type=float, default=0.2)
    args = parser.parse_args()
    uri = tempfile.mkdtemp(prefix="ecom-bench-lake-")
    started = time.perf_counter()
    build_lake(uri, dt.date(2026, 8, 1), args.days, args.customers, args.seed, args.replenishment_share)
    print(
        f"{args.days} days x {args.customers:,} customers ({args.replenishment_share:.0%} replenishment "
        f"buyers): lake built in {time.perf_counter() - started:.1f}s"
    )
    lake = Lake(uri)
    dates, shortfall = training_dates(lake, count=args.days)
    if shortfall:
        raise SystemExit(f"too little history to train: {shortfall}")
    print(f"as-of dates {dates[0]} .. {dates[-1]} (after the warm-up)")
    report("clickstream", load_training_set(lake, dates))
    report("purchases only", purchases_only(lake.read_table(FACT_EVENTS), dates))


if __name__ == "__main__":
    main()
