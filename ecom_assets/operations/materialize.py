"""``ecom materialize``: the asset graph over a range of days, as a few range runs in the Dagster instance.

Each step is one run over one partition range, in dependency order: Bronze and the rejected lines (both
by arrival date) also take the late-arrival days after the range, whose files hold late events of the
range; labels stop seven days before the end, since their look-ahead must exist. A step the lake has too
little history for (labels, the model, scores and drift without a champion) is skipped with one line that
says why and what to do; that is no failure.
"""

import datetime as dt
import os
import time
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from rich.console import Console

from ecom_assets.definitions import defs
from ecom_assets.defs.ml.assets import PropensityModelConfig
from ecom_assets.defs.partitions import first_partition, last_partition, partition_range_tags
from ecom_assets.defs.tables import asset_key
from ecom_assets.faults import RUN_BETWEEN_STEPS, fault_point
from ecom_assets.keys import (
    CHAMPION,
    FACT_EVENTS,
    LABEL_PURCHASE_NEXT_7D,
    MODEL_PERFORMANCE,
    PROPENSITY_MODEL,
    SILVER_EVENTS_REJECTED,
)
from ecom_assets.ml.readiness import missing_champion, training_dates
from ecom_assets.operations.errors import RunFailedError
from ecom_assets.settings import get_settings
from ecom_assets.storage.lake import Lake
from ecom_assets.transforms.labels import LABEL_HORIZON_DAYS

TRAINING_DATES: int = PropensityModelConfig.model_fields["training_dates"].default


@dataclass(frozen=True)
class Step:
    name: str
    selection: dg.AssetSelection
    start: dt.date | None = None  # None: the step's assets are not partitioned
    end: dt.date | None = None
    # A rejected candidate model is an outcome, not a breakdown: scoring goes on with the champion.
    stops_the_plan: bool = True
    # Why the lake cannot run this step yet (too little history, no champion), or None when it can.
    not_ready: Callable[[Lake], str | None] | None = None

    def skip_reason(self, lake: Lake) -> str | None:
        if self.start is not None and self.end is not None and self.end < self.start:
            missing = (self.start - self.end).days
            return (
                f"no as-of date up to {self.end} has its {LABEL_HORIZON_DAYS}-day look-ahead yet; "
                f"land {missing} more day{'s' if missing > 1 else ''}"
            )
        return self.not_ready(lake) if self.not_ready else None


def _training_shortfall(lake: Lake) -> str | None:
    return training_dates(lake, TRAINING_DATES)[1]


def first_label_date(start: dt.date, materialised_facts: AbstractSet[str]) -> dt.date:
    """The earliest as-of date whose look-ahead this range completes: up to seven days before it, as far
    back as the days before the range were materialised by earlier runs (a day without facts has no
    features to label)."""
    first, day = start, dt.timedelta(days=1)
    while start - first < dt.timedelta(days=LABEL_HORIZON_DAYS) and first - day >= first_partition():
        if (first - day).isoformat() not in materialised_facts:
            break
        first -= day
    return first


def plan(start: dt.date, end: dt.date, materialised_facts: AbstractSet[str] = frozenset()) -> list[Step]:
    """The runs of ``ecom materialize``; ``materialised_facts`` are the fact_events days already there."""
    late = dt.timedelta(days=get_settings().late_window_days)
    # Rejected lines are kept by arrival date, so they follow Bronze over the same days.
    bronze = dg.AssetSelection.groups("bronze") | dg.AssetSelection.assets(asset_key(SILVER_EVENTS_REJECTED))
    labels = dg.AssetSelection.assets(asset_key(LABEL_PURCHASE_NEXT_7D))
    model = dg.AssetSelection.assets(asset_key(PROPENSITY_MODEL), asset_key(CHAMPION))
    performance = dg.AssetSelection.assets(asset_key(MODEL_PERFORMANCE))
    scores = dg.AssetSelection.groups("ml", "monitoring") - model - performance
    # Outcomes of the same as-of dates as the labels, once those days have been scored.
    outcome_days = first_label_date(start, materialised_facts), end - dt.timedelta(days=LABEL_HORIZON_DAYS)
    return [
        Step("bronze and rejects", bronze, start, min(end + late, last_partition())),
        Step(
            "silver and gold",
            dg.AssetSelection.all() - bronze - labels - model - scores - performance,
            start,
            end,
        ),
        Step("labels", labels, *outcome_days),
        Step("model and champion", model, stops_the_plan=False, not_ready=_training_shortfall),
        Step("scores and monitoring", scores, start, end, not_ready=missing_champion),
        Step("realised performance", performance, *outcome_days),
    ]


def dagster_instance() -> dg.DagsterInstance:
    """The instance at ``DAGSTER_HOME`` (``./.dagster_home`` when unset), so runs show in ``dagster dev``.

    A new home gets the project's ``dagster.yaml`` (SQLite storage, telemetry off).
    """
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(".dagster_home").resolve())))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        project_config = Path(__file__).resolve().parents[2] / "dagster.yaml"
        config = project_config.read_text() if project_config.exists() else "telemetry:\n  enabled: false\n"
        (home / "dagster.yaml").write_text(config)
    return dg.DagsterInstance.get()


def _failure_message(result: dg.ExecuteInProcessResult) -> str:
    """The first failed step and its error in one line: the error's first line says what went wrong,
    its last line often which check or input (both, when they differ)."""
    failures = result.get_step_failure_events()
    if not failures:
        return "run did not succeed"
    event = failures[0]
    error = event.step_failure_data.error
    cause = error.cause.message if error and error.cause else (error.message if error else "")
    lines = [line.strip() for line in cause.splitlines() if line.strip()] or ["see the Dagster UI"]
    told = lines[0] if len(lines) == 1 else f"{lines[0]} … {lines[-1]}"
    return f"step {event.step_key} failed: {told}"


def _selection(text: str, graph) -> dg.AssetSelection:
    try:
        chosen = dg.AssetSelection.from_string(text)
        matched = chosen.resolve(graph)
    except (dg.DagsterError, ValueError) as error:
        raise ValueError(f"--select {text!r}: {str(error).splitlines()[0]}") from None
    if not matched:
        raise ValueError(f"--select {text!r} matches no asset; try 'group:silver' or 'key:gold/fact_events'")
    return chosen


def materialize_range(
    start: dt.date,
    end: dt.date,
    selection: str = "*",
    instance: dg.DagsterInstance | None = None,
    log_level: str = "WARNING",
    console: Console | None = None,
    op_config: dict | None = None,
) -> list[dg.ExecuteInProcessResult]:
    """Run the plan's steps in order in the instance; each step is one range run visible in the UI.

    ``op_config`` configures assets by op name (``{"ml__champion": {...}}``) in the steps that run them.
    """
    if start < first_partition() or end > last_partition():
        raise ValueError(
            f"--start/--end must lie within the daily partitions {first_partition()} .. {last_partition()}"
        )
    instance = instance or dagster_instance()
    graph = defs.resolve_asset_graph()
    chosen = _selection(selection, graph)
    assets = [asset for asset in defs.assets or () if isinstance(asset, dg.AssetsDefinition | dg.AssetSpec)]
    results, failures = [], []
    materialised_facts = instance.get_materialized_partitions(asset_key(FACT_EVENTS))
    lake = Lake.from_settings()
    for step in plan(start, end, materialised_facts):
        keys = (step.selection & chosen).resolve(graph, allow_missing=True)
        if not keys:
            continue
        skipped = step.skip_reason(lake)
        if skipped:
            if console is not None:
                console.print(f"[yellow]-[/] {step.name}: skipped, {skipped}", soft_wrap=True)
            continue
        partitioned = step.start is not None and step.end is not None
        span = f"{step.start} .. {step.end}" if partitioned else "latest"
        tags = partition_range_tags(step.start, step.end) if step.start and step.end else {}
        began = time.perf_counter()
        with Console(quiet=console is None).status(f"{step.name}: {span}"):
            result = dg.materialize(
                assets,
                selection=list(keys),
                instance=instance,
                resources=defs.resources,
                tags={**tags, "ecom/step": step.name},
                run_config={
                    "loggers": {"console": {"config": {"log_level": log_level}}},
                    "ops": {
                        name: {"config": config}
                        for name, config in (op_config or {}).items()
                        if any(name == "__".join(key.path) for key in keys)
                    },
                },
                raise_on_error=False,
            )
        results.append(result)
        if not result.success:
            failures.append(f"{step.name} ({span}), run {result.run_id}: {_failure_message(result)}")
            if console is not None:
                console.print(f"[red]✗[/] {failures[-1]}")
            if step.stops_the_plan:
                break
        elif console is not None:
            console.print(
                f"[green]✓[/] {step.name} {span}: run {result.run_id[:8]}, "
                f"{len(keys)} assets, {time.perf_counter() - began:.1f} s"
            )
        fault_point(RUN_BETWEEN_STEPS)
    if failures:
        raise RunFailedError("; ".join(failures))
    return results
