"""``ecom demo``: the whole loop on the embedded default, from an empty lake to a champion and back.

Three and a half months of simulated traffic land in the local lake, with a change of behaviour from
``DRIFT_FROM``. The graph is materialised up to the drift in the Dagster instance at ``DAGSTER_HOME`` (a
first champion), then the drifted days without retraining, and the first champion's realised outcomes
are measured; the drift report of ``DRIFT_DAY`` raises the alert that makes ``drift_retrain_sensor``
request a retraining, whose candidate faces the gate and then serves as challenger through a shadow
period, until its realised outcomes decide whether it replaces the champion.
"""

import datetime as dt
import json

import polars as pl
from rich.console import Console
from rich.table import Table

from ecom_assets import keys
from ecom_assets.events.simulator import simulate
from ecom_assets.ml.batch_scores import require_champion
from ecom_assets.ml.registry import CHAMPION_ROLE, ModelRegistry
from ecom_assets.operations.drift_episode import run_drift_episode
from ecom_assets.operations.materialize import dagster_instance, materialize_range
from ecom_assets.operations.shadow_period import (
    measure_outcomes,
    promise_kept_table,
    realised_table,
    run_shadow_period,
    weigh_evidence,
)
from ecom_assets.storage.lake import Lake
from ecom_assets.transforms.labels import LABEL_HORIZON_DAYS

DEMO_START = dt.date(2026, 8, 1)
DEMO_CUSTOMERS = 2000
DRIFT_FROM = dt.date(2026, 10, 10)
DRIFT_DAY = dt.date(2026, 10, 31)
SHADOW_DAYS = 7
# The shadow period, then the seven days of outcomes of its last day.
DEMO_DAYS = (DRIFT_DAY - DEMO_START).days + 1 + SHADOW_DAYS + LABEL_HORIZON_DAYS
DATA_ONLY = "not group:ml and not group:monitoring"
NOT_REALISED = f'not key:"{keys.MODEL_PERFORMANCE}"'
SHOWN_METRICS = ("roc_auc", "pr_auc", "brier", "lift_top10", "precision_top10", "base_rate")
TABLES = (
    keys.BRONZE_EVENTS,
    keys.SILVER_EVENTS,
    keys.SILVER_EVENTS_REJECTED,
    keys.FACT_EVENTS,
    keys.DIM_CUSTOMER,
    keys.CUSTOMER_DAILY_ACTIVITY,
    keys.CUSTOMER_DAILY_FEATURES,
    keys.LABEL_PURCHASE_NEXT_7D,
    keys.BATCH_SCORES,
    keys.DRIFT_REPORT,
    keys.MODEL_PERFORMANCE,
)


def _table_counts(lake: Lake) -> Table:
    table = Table("table", "rows", title=f"Lake at {lake.uri}")
    for key in TABLES:
        rows = lake.scan_table(key).select(pl.len()).collect().item() if lake.table_exists(key) else 0
        table.add_row(key, f"{rows:,}")
    return table


def _champion_metrics(lake: Lake) -> Table:
    registry = ModelRegistry(lake)
    version = registry.champion_version()
    if version is None:
        raise ValueError(f"no champion in {lake.uri}: the demo's first materialisation should have made one")
    manifest = registry.manifest(version)
    table = Table("metric", "champion", "recency baseline", title=f"Champion {manifest.version}")
    for name in SHOWN_METRICS:
        baseline = manifest.metrics.get(f"baseline_{name}")
        table.add_row(name, f"{manifest.metrics[name]:.3f}", "" if baseline is None else f"{baseline:.3f}")
    return table


def _validation_end(lake: Lake) -> dt.date:
    return require_champion(lake).manifest.validation_window[1]


def run_demo(console: Console | None = None) -> None:
    console = console or Console()
    lake = Lake.from_settings()
    instance = dagster_instance()
    end = DEMO_START + dt.timedelta(days=DEMO_DAYS - 1)
    before_drift = DRIFT_FROM - dt.timedelta(days=1)
    horizon = dt.timedelta(days=LABEL_HORIZON_DAYS)
    console.rule(f"1. Simulate web/app events into the landing zone, behaviour drifting from {DRIFT_FROM}")
    summary = simulate(lake, DEMO_START, DEMO_DAYS, customers=DEMO_CUSTOMERS, seed=7, drift_from=DRIFT_FROM)
    console.print(str(summary))
    console.rule(f"2. Materialise the asset graph up to the drift, {DEMO_START} .. {before_drift}")
    # Realised performance of days the first champion trained on would flatter it: measured from step 3 on.
    materialize_range(DEMO_START, before_drift, NOT_REALISED, instance=instance, console=console)
    console.print(_champion_metrics(lake))
    first_scored = _validation_end(lake) + dt.timedelta(days=1)
    console.rule(f"3. The drifted days land, {DRIFT_FROM} .. {DRIFT_DAY}: the first champion's outcomes")
    materialize_range(DRIFT_FROM, DRIFT_DAY, DATA_ONLY, instance=instance, console=console)
    measure_outcomes(first_scored, before_drift, instance, console)
    console.rule(f"4. Drift on {DRIFT_DAY}: alert, retraining, promotion gate")
    run_drift_episode(DRIFT_DAY, instance, console)
    shadow_end = DRIFT_DAY + dt.timedelta(days=SHADOW_DAYS)
    console.rule(f"5. Shadow period {DRIFT_DAY} .. {shadow_end}: champion and challenger score every day")
    run_shadow_period(DRIFT_DAY + dt.timedelta(days=1), end, instance, console)
    console.print(realised_table(lake, first_scored))
    promises, kept = promise_kept_table(lake)
    console.print(promises)
    console.print(
        "realised ROC-AUC of every version lies within the range its validation predicted for a day"
        if kept
        else "[red]realised ROC-AUC of some version lies outside the range its validation predicted[/]"
    )
    console.rule(f"6. Promotion on evidence: {SHADOW_DAYS} days of paired outcomes")
    weigh_evidence(end - horizon, SHADOW_DAYS, instance, console)
    console.print(_table_counts(lake))
    console.print(_champion_metrics(lake))
    console.rule("Where to look")
    scores = lake.read_table(keys.BATCH_SCORES, "as_of_date", [end]).filter(pl.col("arm") == CHAMPION_ROLE)
    score_request = json.dumps({"customer_id": scores.sort("score", descending=True)["customer_id"][0]})
    console.print(
        f"Dagster UI on these runs: [bold]make dev[/] (DAGSTER_HOME={instance.root_directory}), "
        "then http://127.0.0.1:3000\n"
        f"Scoring service: [bold].venv/bin/ecom serve[/], then curl -s localhost:8000/score "
        f"-H 'content-type: application/json' -d '{score_request}'\n"
        f"Campaign export: [bold].venv/bin/ecom score-batch --date {end} --out scores.csv[/]",
        highlight=False,
    )
