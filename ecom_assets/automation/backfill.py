"""``ecom materialize``: the asset graph over a range of days, as a few range runs in the Dagster instance.

Each step is one run over one partition range, in dependency order: Bronze also takes the late-arrival
days after the range (their files hold late events of the range); labels stop seven days before the
end, since their look-ahead must exist.
"""

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from ecom_assets.automation.schedules import partition_range_tags
from ecom_assets.partitions import LABEL_HORIZON_DAYS, daily_partitions
from ecom_assets.resources import build_resources
from ecom_assets.settings import get_settings


@dataclass(frozen=True)
class Step:
    name: str
    selection: dg.AssetSelection
    start: dt.date
    end: dt.date


class RunFailedError(RuntimeError):
    """A step of the plan failed; the message names the run and the failing step."""


def _last_partition() -> dt.date:
    return dt.date.fromisoformat(daily_partitions.get_last_partition_key())


def plan(start: dt.date, end: dt.date) -> list[Step]:
    late = dt.timedelta(days=get_settings().late_window_days)
    bronze = dg.AssetSelection.groups("bronze")
    labels = dg.AssetSelection.assets(["gold", "label_purchase_next_7d"])
    ml = dg.AssetSelection.groups("ml", "monitoring")
    return [
        Step("bronze", bronze, start, min(end + late, _last_partition())),
        Step("silver and gold", dg.AssetSelection.all() - bronze - labels - ml, start, end),
        Step("labels", labels, start, end - dt.timedelta(days=LABEL_HORIZON_DAYS)),
        Step("model and monitoring", ml, start, end),
    ]


def dagster_instance() -> dg.DagsterInstance:
    """The instance at ``DAGSTER_HOME`` (``./.dagster_home`` when unset), so runs show in ``dagster dev``.

    A new home gets the project's ``dagster.yaml`` (SQLite storage, telemetry off) when run from the project.
    """
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(".dagster_home").resolve())))
    home.mkdir(parents=True, exist_ok=True)
    project_config = Path("dagster.yaml")
    if not (home / "dagster.yaml").exists() and project_config.exists():
        shutil.copyfile(project_config, home / "dagster.yaml")
    return dg.DagsterInstance.get()


def _failure_message(result: dg.ExecuteInProcessResult) -> str:
    failures = result.get_step_failure_events()
    if not failures:
        return "run did not succeed"
    event = failures[0]
    error = event.step_failure_data.error
    cause = error.cause.message if error and error.cause else (error.message if error else "")
    return (
        f"step {event.step_key} failed: {cause.strip().splitlines()[-1] if cause else 'see the Dagster UI'}"
    )


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
) -> list[dg.ExecuteInProcessResult]:
    from ecom_assets.definitions import defs

    if start < dt.date.fromisoformat(daily_partitions.get_first_partition_key()) or end > _last_partition():
        raise ValueError(
            f"--start/--end must lie within the daily partitions "
            f"{daily_partitions.get_first_partition_key()} .. {_last_partition()}"
        )
    instance = instance or dagster_instance()
    graph = defs.resolve_asset_graph()
    chosen = _selection(selection, graph)
    assets = list(defs.assets)
    results = []
    for step in plan(start, end):
        keys = (step.selection & chosen).resolve(graph, allow_missing=True)
        if not keys or step.end < step.start:
            continue
        result = dg.materialize(
            assets,
            selection=list(keys),
            instance=instance,
            resources=build_resources(),
            tags={**partition_range_tags(step.start, step.end), "ecom/step": step.name},
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
            raise_on_error=False,
        )
        if not result.success:
            raise RunFailedError(
                f"{step.name} ({step.start}..{step.end}), run {result.run_id}: {_failure_message(result)}"
            )
        results.append(result)
    return results
