"""Faults and what they leave behind: real ``ecom`` processes killed at each fault point, several times.

    .venv/bin/python bench/faults.py [--trials 3]

For every fault, each trial runs the command with the fault armed (``ECOM_FAULT_POINT``, see
``ecom_assets/faults.py``), then checks the lake, reruns the command without the fault and compares the
result with an uninterrupted run. Prints one row per fault:

- runs failed cleanly: the process died where the fault struck and left every table whole (each as it was
  before the run, or as the complete run leaves it) and the champion verified;
- rows lost: rows of the uninterrupted result missing after the rerun (goal 0);
- tables unreadable: tables that could not be read after the fault (goal 0);
- identical after rerun: trials whose rerun gave exactly the tables of the uninterrupted run.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from ecom_assets.faults import (
    LAKE_BEFORE_COMMIT,
    LAKE_FILE_STAGED,
    PREDICTION_LOG_FLUSH,
    REGISTRY_BEFORE_MANIFEST,
    RUN_BETWEEN_STEPS,
)
from ecom_assets.ml.registry import ModelRegistry
from ecom_assets.settings import get_settings
from ecom_assets.storage.lake import Lake
from ecom_assets_tests import fault_harness as harness
from ecom_assets_tests.azurite import running_emulator
from ecom_assets_tests.outage_proxy import OutageProxy
from ecom_assets_tests.serving_support import register_model, running_service, wait_until, write_features

# Commits of the medallion range run, in order: Bronze, rejects, Silver, facts, customers, features.
COMMITS = 6


@dataclass(frozen=True)
class Trial:
    failed_cleanly: bool
    rows_lost: int
    tables_unreadable: int
    identical_after_rerun: bool


@dataclass(frozen=True)
class Reference:
    landing: Path
    materialised: Path
    state: dict


def _medallion_trial(reference: Reference, work: Path, start_from: Path, **fault) -> Trial:
    lake_uri = harness.copy_lake(start_from, work / "lake")
    lake = Lake(lake_uri)
    before = harness.lake_state(lake)
    crashed = harness.materialize(lake_uri, work / "home", **fault)
    unreadable = harness.unreadable_tables(lake)
    torn = [] if unreadable else harness.torn_tables(before, harness.lake_state(lake), reference.state)
    rerun = harness.materialize(lake_uri, work / "home")
    after = harness.lake_state(lake) if rerun.returncode == 0 else harness.lake_state(Lake(str(start_from)))
    return Trial(
        failed_cleanly=harness.killed(crashed) and not torn and not unreadable,
        rows_lost=harness.rows_lost(reference.state, after),
        tables_unreadable=len(unreadable),
        identical_after_rerun=rerun.returncode == 0 and not harness.differences(reference.state, after),
    )


def before_commit(reference: Reference, work: Path, trial: int) -> Trial:
    """Killed as the n-th table of a re-run is about to commit (n cycles through the six commits)."""
    after = 1 + (trial * 2) % COMMITS
    return _medallion_trial(reference, work, reference.materialised, fault=LAKE_BEFORE_COMMIT, after=after)


def between_steps(reference: Reference, work: Path, trial: int) -> Trial:
    """Killed between the Bronze and the Silver/Gold range runs of a first run on a new lake."""
    return _medallion_trial(reference, work, reference.landing, fault=RUN_BETWEEN_STEPS)


def concurrent_runs(reference: Reference, work: Path, trial: int) -> Trial:
    """Two ``ecom materialize`` over the same days at once; a clear conflict failure counts as clean."""
    lake_uri = harness.copy_lake(reference.landing, work / "lake")
    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(harness.materialize, lake_uri, work / f"home-{number}") for number in (1, 2)]
        results = [run.result() for run in runs]
    clean = all(result.returncode == 0 or "concurrent write to" in result.stderr for result in results)
    if any(result.returncode for result in results):
        harness.materialize(lake_uri, work / "home-1")
    lake = Lake(lake_uri)
    unreadable = harness.unreadable_tables(lake)
    after = harness.lake_state(lake)
    return Trial(
        failed_cleanly=clean and not unreadable,
        rows_lost=harness.rows_lost(reference.state, after),
        tables_unreadable=len(unreadable),
        identical_after_rerun=not harness.differences(reference.state, after),
    )


def _registry_trial(work: Path, code: str, fault: str, rerun: Callable[[Lake], str]) -> Trial:
    lake = Lake(str(work / "lake"))
    champion = register_model(lake, seed=1).version
    crashed = harness.python_in_lake(code, lake, fault)
    registry = ModelRegistry(lake)
    try:
        loaded = registry.load_champion()
        verified = loaded is not None and loaded.manifest.version == champion
    except Exception:  # an unverifiable champion is what this counts
        verified = False
    expected = rerun(lake)
    return Trial(
        failed_cleanly=harness.killed(crashed) and verified and registry.versions()[0] == champion,
        rows_lost=0 if champion in registry.versions() else 1,
        tables_unreadable=0 if verified else 1,
        identical_after_rerun=expected in registry.versions(),
    )


def while_registering(reference: Reference, work: Path, trial: int) -> Trial:
    """Killed after a new version's artifacts are written, before its manifest."""
    code = "from ecom_assets_tests.serving_support import register_model; register_model(lake, 2, False)"
    return _registry_trial(
        work, code, REGISTRY_BEFORE_MANIFEST, lambda lake: register_model(lake, 2, promote=False).version
    )


def while_promoting(reference: Reference, work: Path, trial: int) -> Trial:
    """Killed with the new champion pointer written under a temporary name, not yet renamed."""
    lake = Lake(str(work / "lake"))
    candidate = register_model(lake, seed=2, promote=False).version
    code = f"from ecom_assets.ml.registry import ModelRegistry; ModelRegistry(lake).promote({candidate!r})"

    def promote(lake: Lake) -> str:
        ModelRegistry(lake).promote(candidate)
        return candidate

    return _registry_trial(work, code, LAKE_FILE_STAGED, promote)


def log_flush(reference: Reference, work: Path, trial: int) -> Trial:
    """``ecom serve`` killed at its second prediction-log flush; committed rows must all be there."""
    lake = Lake(str(work / "lake"))
    write_features(lake)
    register_model(lake, seed=1)
    with running_service(lake, work, fault_point=PREDICTION_LOG_FLUSH, fault_after="2") as url:
        wait_until(lambda: httpx.get(f"{url}/ready").status_code == 200, what="the champion")
        harness.score_at_once(url, range(5))
        wait_until(lambda: harness.logged_predictions(lake) == 5, what="the first flush")
        harness.score_at_once(url, range(5, 8))
        wait_until(lambda: not harness.service_alive(url), what="the crash")
    try:
        committed, unreadable = harness.logged_predictions(lake), 0
    except Exception:  # an unreadable log is what this counts
        committed, unreadable = 0, 1
    with running_service(lake, work) as url:
        wait_until(lambda: httpx.get(f"{url}/ready").status_code == 200, what="the champion")
        harness.score_at_once(url, range(8, 10))
        wait_until(
            lambda: harness.logged_predictions(lake) >= committed + 2, what="the flush after the restart"
        )
    return Trial(
        failed_cleanly=committed == 5,
        rows_lost=max(5 - committed, 0),
        tables_unreadable=unreadable,
        identical_after_rerun=harness.logged_predictions(lake) == 7,
    )


def storage_outage(reference: Reference, work: Path, trial: int) -> Trial:
    """The lake on Azurite behind a proxy, cut off once Bronze has committed, restored after the failure."""
    expected = harness.lake_state(Lake(str(reference.materialised)), ignoring=harness.STORE_TIMES)
    nothing_yet = {key: harness.TableState(None, None) for key in harness.TABLES}
    with running_emulator(work) as azurite:
        proxy = OutageProxy(azurite, work)
        proxy.restore()
        azurite.service().create_container("lake")
        settings = proxy.azurite.environment("lake")
        os.environ.update(settings)
        get_settings.cache_clear()
        try:
            lake = Lake.from_settings()
            harness.simulate_landing(lake)
            returncode, errors = harness.materialize_through_outage(lake, proxy.cut, work / "home")
            proxy.restore()
            unreadable = harness.unreadable_tables(lake)
            after_outage = harness.lake_state(lake, ignoring=harness.STORE_TIMES)
            rerun = harness.materialize(lake.uri, work / "home")
            after = harness.lake_state(lake, ignoring=harness.STORE_TIMES)
        finally:
            proxy.cut()
            for name in settings:
                os.environ.pop(name)
            get_settings.cache_clear()
    one_line = returncode == 2 and f"lake {lake.uri} failed in" in errors
    return Trial(
        failed_cleanly=one_line and not harness.torn_tables(nothing_yet, after_outage, expected),
        rows_lost=harness.rows_lost(expected, after),
        tables_unreadable=len(unreadable),
        identical_after_rerun=rerun.returncode == 0 and not harness.differences(expected, after),
    )


FAULTS: dict[str, Callable[[Reference, Path, int], Trial]] = {
    "kill before a Delta commit (ecom materialize)": before_commit,
    "kill between two range runs (ecom materialize)": between_steps,
    "two ecom materialize at once": concurrent_runs,
    "kill while a model version is registered": while_registering,
    "kill while the champion pointer is replaced": while_promoting,
    "kill while the service flushes the prediction log": log_flush,
    "storage outage during ecom materialize (Azurite)": storage_outage,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--only", help="run the faults whose name contains this text")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        landing = harness.landing_zone(root)
        materialised = root / "uninterrupted"
        harness.copy_lake(landing, materialised)
        assert harness.materialize(str(materialised), root / "home").returncode == 0, (
            "the reference run failed"
        )
        reference = Reference(landing, materialised, harness.lake_state(Lake(str(materialised))))
        print(
            "| fault | trials | runs failed cleanly | rows lost | tables unreadable | identical after rerun |"
        )
        print("|---|---|---|---|---|---|")
        for name, scenario in FAULTS.items():
            if args.only and args.only not in name:
                continue
            trials = []
            for number in range(args.trials):
                work = root / f"{scenario.__name__}-{number}"
                work.mkdir()
                trials.append(scenario(reference, work, number))
            print(
                f"| {name} | {len(trials)} | {sum(t.failed_cleanly for t in trials)} | "
                f"{sum(t.rows_lost for t in trials)} | {sum(t.tables_unreadable for t in trials)} | "
                f"{sum(t.identical_after_rerun for t in trials)} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
