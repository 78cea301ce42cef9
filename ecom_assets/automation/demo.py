"""``ecom demo``: the whole loop on the embedded default, from an empty lake to a champion model.

Two months of simulated traffic land in the local lake; the graph is materialised in the Dagster
instance at ``DAGSTER_HOME``, so every run can be inspected in the UI afterwards.
"""

import datetime as dt

import polars as pl
from rich.console import Console
from rich.table import Table

from ecom_assets.automation.backfill import dagster_instance, materialize_range
from ecom_assets.events.simulator import simulate
from ecom_assets.ml.registry import ModelRegistry
from ecom_assets.resources.lake import Lake

DEMO_START = dt.date(2026, 9, 1)
DEMO_DAYS = 61
DEMO_CUSTOMERS = 2000
SHOWN_METRICS = ("roc_auc", "pr_auc", "brier", "lift_top10", "precision_top10", "base_rate")
TABLES = (
    "bronze/events",
    "silver/events",
    "silver/events_rejected",
    "gold/fact_events",
    "gold/dim_customer",
    "gold/customer_daily_features",
    "gold/label_purchase_next_7d",
    "ml/batch_scores",
)


def _table_counts(lake: Lake) -> Table:
    table = Table("table", "rows", title=f"Lake at {lake.uri}")
    for key in TABLES:
        rows = lake.scan_table(key).select(pl.len()).collect().item() if lake.table_exists(key) else 0
        table.add_row(key, f"{rows:,}")
    return table


def _champion_metrics(lake: Lake) -> Table:
    registry = ModelRegistry(lake)
    manifest = registry.manifest(registry.champion_version())
    table = Table("metric", "champion", "recency baseline", title=f"Champion {manifest.version}")
    for name in SHOWN_METRICS:
        baseline = manifest.metrics.get(f"baseline_{name}")
        table.add_row(name, f"{manifest.metrics[name]:.3f}", "" if baseline is None else f"{baseline:.3f}")
    return table


def run_demo(console: Console | None = None) -> None:
    console = console or Console()
    lake = Lake.from_settings()
    instance = dagster_instance()
    end = DEMO_START + dt.timedelta(days=DEMO_DAYS - 1)
    console.rule("1. Simulate web/app events into the landing zone")
    console.print(str(simulate(lake, DEMO_START, DEMO_DAYS, customers=DEMO_CUSTOMERS, seed=7)))
    console.rule(f"2. Materialise the asset graph, {DEMO_START} .. {end}")
    materialize_range(DEMO_START, end, instance=instance, console=console)
    console.print(_table_counts(lake))
    console.print(_champion_metrics(lake))
    console.rule("Where to look")
    console.print(
        f"Dagster UI on these runs: [bold]make dev[/] (DAGSTER_HOME={instance.root_directory}), "
        "then http://127.0.0.1:3000\n"
        "Scoring service: [bold].venv/bin/ecom serve[/], then "
        "curl -s localhost:8000/score -H 'content-type: application/json' -d '{\"customer_id\": \"...\"}'\n"
        f"Campaign export: [bold].venv/bin/ecom score-batch --date {end} --out scores.csv[/]"
    )
