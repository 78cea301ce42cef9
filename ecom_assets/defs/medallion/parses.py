"""Bronze's arrival days parsed once per process: ahead while ``bronze/events`` writes them, else when
``silver/events_rejected`` reads them; ``silver/events`` takes the parse (``transforms.parsed_days``)."""

import datetime as dt
from collections.abc import Iterable, Iterator

import dagster as dg
import polars as pl

from ecom_assets.defs.resources import LakeResource
from ecom_assets.defs.tables import asset_key
from ecom_assets.keys import BRONZE_EVENTS, SILVER_EVENTS_REJECTED
from ecom_assets.settings import get_settings
from ecom_assets.storage.lake import Lake
from ecom_assets.transforms.parsed_days import ParseAhead, ParsedDays
from ecom_assets.transforms.silver import ParsedBronze, parse_bronze
from ecom_assets.transforms.threads import map_ahead

_parsed_days = ParsedDays()


def parse_ahead(context: dg.AssetExecutionContext, lake: Lake) -> ParseAhead | None:
    """A ParseAhead for Bronze's lines when the run writes the rejects of the same days next (in this
    process: the code location's runs execute in process, see ``defs.executor``), else None."""
    if asset_key(SILVER_EVENTS_REJECTED) not in context.job_def.asset_layer.selected_asset_keys:
        return None
    late = get_settings().late_window_days
    return ParseAhead(
        lambda lines: parse_bronze(lines, late),
        lambda version: lake.partition_fingerprints(BRONZE_EVENTS, "arrival_date", version),
        _parsed_days,
        late,
    )


def _parse(
    bronze: pl.LazyFrame, arrival_dates: Iterable[dt.date], late_window_days: int
) -> Iterator[ParsedBronze]:
    """Each arrival day's lines parsed, in order, a few days at once: a few days of lines in memory."""

    def parse(day: dt.date) -> ParsedBronze:
        return parse_bronze(bronze.filter(pl.col("arrival_date") == day).collect(), late_window_days)

    return map_ahead(parse, arrival_dates)


def bronze_fingerprints(lake_resource: LakeResource) -> dict[dt.date, str]:
    # Read before the write starts: delta-rs cannot be called from the stream it is writing.
    return lake_resource.get_lake().partition_fingerprints(BRONZE_EVENTS, "arrival_date")


def _filed_or_parsed(
    bronze: pl.LazyFrame,
    fingerprints: dict[dt.date, str],
    arrival_dates: list[dt.date],
    late_window_days: int,
) -> tuple[dict[dt.date, str], Iterator[ParsedBronze]]:
    """The key of each day's parse, and the parses of the days that have none filed, made now in order."""
    filed = [day for day in arrival_dates if day in fingerprints]
    keys = {day: ParsedDays.key(fingerprints[day], late_window_days) for day in filed}
    to_parse = [day for day in arrival_dates if not (day in keys and _parsed_days.has(keys[day]))]
    return keys, _parse(bronze, to_parse, late_window_days)


def rejected_in_order(
    bronze: pl.LazyFrame,
    fingerprints: dict[dt.date, str],
    arrival_dates: list[dt.date],
    late_window_days: int,
) -> Iterator[tuple[pl.DataFrame, int]]:
    """Each arrival day's rejected lines and count of lines, in order: from the parse left of the very
    same Bronze files, or else parsed now and left for ``silver/events``."""
    keys, parsed_now = _filed_or_parsed(bronze, fingerprints, arrival_dates, late_window_days)
    for day in arrival_dates:
        left = _parsed_days.rejected(keys[day]) if day in keys else None
        if left is None:
            parsed = next(parsed_now)
            if day in keys:
                _parsed_days.put(keys[day], parsed)
            left = parsed.rejected, parsed.lines
        yield left


def parsed_in_order(
    bronze: pl.LazyFrame,
    fingerprints: dict[dt.date, str],
    arrival_dates: list[dt.date],
    late_window_days: int,
) -> Iterator[ParsedBronze]:
    """Each arrival day's parse, in order: the one left of the very same Bronze files, or else parsed now."""
    keys, parsed_now = _filed_or_parsed(bronze, fingerprints, arrival_dates, late_window_days)
    for day in arrival_dates:
        left = _parsed_days.take(keys[day]) if day in keys else None
        yield left if left is not None else next(parsed_now)
