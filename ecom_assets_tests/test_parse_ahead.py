"""Bronze's lines parsed while they are written (``ParseAhead``) and the parses filed in ``ParsedDays``."""

import datetime as dt
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl
import pytest

from ecom_assets.transforms.parsed_days import ParseAhead, ParsedDays
from ecom_assets.transforms.silver import parse_bronze
from ecom_assets_tests.factories import bronze, event, line

LATE = 3
D1, D2, D3 = (dt.date(2026, 10, 1) + dt.timedelta(days=n) for n in range(3))


def day_frames() -> list[pl.DataFrame]:
    """Two files on D1 (one with a broken line), an empty file, one file on D2, one on D3."""
    return [
        bronze([line(event(1, event_ts="2026-10-01T08:00:00Z")), "not json"], D1, "a.jsonl"),
        bronze([line(event(2, event_ts="2026-10-01T09:00:00Z"))], D1, "b.jsonl"),
        bronze([], D2, "empty.jsonl"),
        bronze([line(event(3, event_ts="2026-10-02T08:00:00Z"))], D2, "c.jsonl"),
        bronze([line(event(4, event_ts="2026-10-03T08:00:00Z")), "[]"], D3, "d.jsonl"),
    ]


def ahead_of(parsed_days: ParsedDays, versions: list[int]) -> ParseAhead:
    def fingerprints(version: int) -> dict[dt.date, str]:
        versions.append(version)
        return {day: f"{day}@v{version}" for day in (D1, D2, D3)}

    return ParseAhead(lambda lines: parse_bronze(lines, LATE), fingerprints, parsed_days, LATE)


def test_each_day_is_parsed_as_its_frames_pass_and_filed_under_the_commits_fingerprints():
    parsed_days, versions = ParsedDays(), []
    ahead = ahead_of(parsed_days, versions)
    frames = day_frames()
    passed = list(ahead.watch(frames))
    assert all(seen is sent for seen, sent in zip(passed, frames, strict=True)), "frames pass unchanged"
    ahead.file(7)
    assert versions == [7]
    for day in (D1, D2, D3):
        filed = parsed_days.take(ParsedDays.key(f"{day}@v7", LATE))
        expected = parse_bronze(
            pl.concat([frame for frame in frames if frame.height and frame["arrival_date"][0] == day]), LATE
        )
        assert filed is not None
        assert filed.events.sort("event_id").equals(expected.events.sort("event_id"))
        assert filed.rejected.equals(expected.rejected)
    assert parsed_days.take(ParsedDays.key(f"{D1}@v6", LATE)) is None


def test_without_a_commit_the_parses_are_dropped_from_memory_and_disk():
    one_day = parse_bronze(day_frames()[0], LATE)
    parsed_days, versions = ParsedDays(budget_bytes=int(one_day.events.estimated_size() * 1.5)), []
    ahead = ahead_of(parsed_days, versions)
    for _ in ahead.watch(day_frames()):
        pass
    spill_folder = Path(parsed_days._spill_folder.name)
    assert list(spill_folder.iterdir()), "the days over the budget wait on disk"
    ahead.file(None)
    assert versions == []
    assert not list(spill_folder.iterdir())
    assert parsed_days._held_bytes == 0 and not parsed_days._held


def test_frames_of_a_day_that_come_apart_are_refused():
    frames = day_frames()
    ahead = ahead_of(ParsedDays(), [])
    with pytest.raises(ValueError, match="2026-10-01 came apart"):
        list(ahead.watch([frames[0], frames[3], frames[1]]))


def test_a_failed_parse_fails_the_stream():
    def broken(lines: pl.DataFrame):
        raise RuntimeError("parse broke")

    ahead = ParseAhead(broken, lambda version: {}, ParsedDays(), LATE)
    with pytest.raises(RuntimeError, match="parse broke"):
        list(ahead.watch(day_frames()))


@pytest.mark.parametrize("budget", [10**9, 0], ids=["held", "spilled"])
def test_the_rejects_of_a_filed_parse_are_read_without_taking_it(budget):
    parsed = parse_bronze(day_frames()[0], LATE)
    parsed_days = ParsedDays(budget_bytes=budget)
    parsed_days.put("a", parsed)
    rejected, lines = parsed_days.rejected("a")
    assert rejected.equals(parsed.rejected) and lines == parsed.lines == 2
    assert parsed_days.rejected("b") is None
    taken = parsed_days.take("a")
    assert taken is not None and taken.events.equals(parsed.events)


@pytest.mark.parametrize("budget", [10**9, 0], ids=["held", "spilled"])
def test_a_parse_refiled_onto_a_taken_key_is_dropped(budget):
    first, second = (parse_bronze(frame, LATE) for frame in day_frames()[:2])
    parsed_days = ParsedDays(budget_bytes=budget)
    parsed_days.put("final", first)
    parsed_days.put("pending", second)
    parsed_days.refile("pending", "final")
    assert not parsed_days.has("pending")
    kept = parsed_days.take("final")
    assert kept is not None and kept.events.equals(first.events)
    parsed_days.put("pending", second)
    parsed_days.refile("pending", "final")
    moved = parsed_days.take("final")
    assert moved is not None and moved.events.equals(second.events)


def test_a_spill_folder_left_by_a_killed_process_is_removed_by_the_next_spill(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    orphaned = tmp_path / f"ecom-parsed-days-{int(finished.stdout)}-x1"
    living = tmp_path / f"ecom-parsed-days-{os.getpid()}-x2"
    for folder in (orphaned, living):
        folder.mkdir()
        (folder / "a.events.arrow").write_bytes(b"parse")
    parsed_days = ParsedDays(budget_bytes=0)
    parsed_days.put("a", parse_bronze(day_frames()[0], LATE))
    assert not orphaned.exists(), "its process is gone"
    assert living.exists(), "its process still runs"
    assert Path(parsed_days._spill_folder.name).name.startswith(f"ecom-parsed-days-{os.getpid()}-")
