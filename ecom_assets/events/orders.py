"""Import a shop's order lines (CSV, gzip CSV or Parquet) into the landing zone as contract purchase events.

Each row becomes one ``purchase`` event (:mod:`ecom_assets.events.order_lines`, which also says what
becomes of returns and unusable rows), landed under its UTC date like every historical import
(:mod:`ecom_assets.events.importing`: bounded memory, progress bar, rows kept with their reasons).

Event ids are uuid5 of the order id, the product id and which line of that product within the order the
row is (first, second, ...). They depend on nothing else, neither the file's name nor its other columns
nor where the order sits in it, so importing the same file again, or the same orders from another export
(a renamed copy, Parquet instead of CSV, an overlapping date range), gives the same ids and Silver keeps
each event once. Lines are counted per order over the last ``REMEMBERED_ORDERS`` orders seen, which holds
for files sorted by order or by time.
"""

from __future__ import annotations

import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

from ecom_assets.events.importing import (
    ImportSummary,
    RejectedRow,
    SourceImport,
    check_sources,
    file_progress,
    uuid5_text,
)
from ecom_assets.events.order_lines import OrderColumns, OrderTimes, field_mapping, time_zone, to_purchase
from ecom_assets.events.tabular import open_table
from ecom_assets.storage.lake import Lake

# Fixed forever: changing it changes every event id, and re-imports would no longer deduplicate.
ID_NAMESPACE = uuid.UUID("c04f8f7b-6f5c-568d-9b34-7898c9bcb976")
REMEMBERED_ORDERS = 10_000


class LineOccurrences:
    """Which line of its product within its order a row is: 0 for the first, 1 for the next, ...

    Remembers the last ``orders`` orders seen, so memory stays bounded on files of any size.
    """

    def __init__(self, orders: int = REMEMBERED_ORDERS):
        self._orders: OrderedDict[str, Counter] = OrderedDict()
        self._capacity = orders

    def next(self, order_id: str, product_id: str) -> int:
        products = self._orders.get(order_id)
        if products is None:
            products = self._orders[order_id] = Counter()
            if len(self._orders) > self._capacity:
                self._orders.popitem(last=False)
        else:
            self._orders.move_to_end(order_id)
        occurrence = products[product_id]
        products[product_id] += 1
        return occurrence


def event_id(order_id: str, product_id: str, occurrence: int) -> str:
    return uuid5_text(ID_NAMESPACE, f"{order_id}\x1f{product_id}\x1f{occurrence}")


def _import_file(
    source: SourceImport, mapping: dict[str, str], times: OrderTimes, advance: Callable[[int], None]
) -> None:
    occurrences = LineOccurrences()
    with open_table(source.path, advance) as table:
        columns = OrderColumns.resolve(source.path, table.columns, mapping)
        for number, values in table.rows:
            source.summary.rows += 1
            try:
                event_date, event = to_purchase(values, columns, times)
            except RejectedRow as rejection:
                aligned = len(values) == len(table.columns)
                source.keep(
                    number, dict(zip(table.columns, values, strict=True)) if aligned else values, rejection
                )
                continue
            occurrence = occurrences.next(event["order_id"], event["product_id"])
            source.land(
                event_date,
                {"event_id": event_id(event["order_id"], event["product_id"], occurrence), **event},
            )
    source.close()


def _check_columns(paths: list[Path], mapping: dict[str, str]) -> None:
    """Every file has the columns, before anything lands: a bad second file leaves no half import."""
    for path in paths:
        with open_table(path, lambda _: None) as table:
            OrderColumns.resolve(path, table.columns, mapping)


def import_orders(
    lake: Lake,
    paths: list[Path],
    mapping: Sequence[str] = (),
    timezone: str = "UTC",
    time_format: str | None = None,
    progress: bool = True,
    chunk_rows: int = 200_000,
) -> ImportSummary:
    """Convert order-line files into purchase events in the landing zone; ``mapping`` as ``FIELD=COLUMN``,
    ``time_format`` a ``strptime`` format for ``ordered_at`` text that is not ISO 8601."""
    fields, times = field_mapping(mapping), OrderTimes(time_zone(timezone), time_format)
    check_sources(paths, "orders")
    _check_columns(paths, fields)
    summary = ImportSummary(files=[str(path) for path in paths], lake_uri=lake.uri)
    with file_progress(progress) as track:
        for path in paths:
            _import_file(SourceImport(lake, path, summary, "orders", chunk_rows), fields, times, track(path))
    return summary
