"""Model quality and training time on simulator data: the model against the naive recency baseline.

    .venv/bin/python bench/model_quality.py [--days 60] [--customers 2000] [--seed 7]

Simulates a shop into a temporary lake, materialises Bronze .. labels by range runs, then trains both
estimators on every labelled as-of date and prints their validation metrics next to the baseline's
(the issue's bar: ROC-AUC >= 0.75 and above the baseline).
"""

import argparse
import datetime as dt
import tempfile
import time

import dagster as dg

from ecom_assets.definitions import defs
from ecom_assets.defs.partitions import partition_range_tags
from ecom_assets.defs.resources import build_resources
from ecom_assets.events.simulator import simulate
from ecom_assets.ml.dataset import labelled_dates, load_training_set
from ecom_assets.ml.train import train
from ecom_assets.storage.lake import Lake
from ecom_assets.transforms.labels import LABEL_HORIZON_DAYS

SHOWN = ("roc_auc", "pr_auc", "brier", "lift_top10", "precision_top10")


def build_lake(uri: str, start: dt.date, days: int, customers: int, seed: int) -> None:
    end = start + dt.timedelta(days=days - 1)
    simulate(Lake(uri), start=start, days=days, customers=customers, seed=seed, progress=False)
    steps = [
        ("group:bronze", end + dt.timedelta(days=3)),
        ('key:"silver/events" or key:"gold/fact_events" or key:"gold/customer_daily_features"', end),
        ('key:"gold/label_purchase_next_7d"', end - dt.timedelta(days=LABEL_HORIZON_DAYS)),
    ]
    for selection, last in steps:
        dg.materialize(
            defs.assets,
            selection=selection,
            resources=build_resources(uri),
            tags=partition_range_tags(start, last),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    uri = tempfile.mkdtemp(prefix="ecom-bench-lake-")
    started = time.perf_counter()
    build_lake(uri, dt.date(2026, 8, 1), args.days, args.customers, args.seed)
    print(
        f"{args.days} days x {args.customers:,} customers: lake built in {time.perf_counter() - started:.1f}s"
    )
    dataset = load_training_set(Lake(uri), labelled_dates(Lake(uri)))
    for estimator in ("hist_gradient_boosting", "logistic_regression"):
        started = time.perf_counter()
        result = train(dataset, estimator)
        seconds = time.perf_counter() - started
        metrics = result.metrics
        print(
            f"{estimator}: {result.split.kind} split, {int(metrics['train_rows']):,} train / "
            f"{int(metrics['validation_rows']):,} validation rows, trained in {seconds:.1f}s"
        )
        for name in SHOWN:
            model, baseline = metrics[name], metrics[f"baseline_{name}"]
            print(f"  {name:16} model {model:.3f}  recency baseline {baseline:.3f}  x{model / baseline:.2f}")


if __name__ == "__main__":
    main()
