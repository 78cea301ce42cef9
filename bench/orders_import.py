"""Order-lines import speed and memory: events per second, and peak memory that stays flat as files grow.

    .venv/bin/python bench/orders_import.py [--rows 200000 1000000]

Writes order-line files of each size (a year of orders of 1-5 lines for 20,000 customers, 2% returns,
0.5% rows with a zero quantity), as CSV and as Parquet, imports each in a fresh process into a temporary
local lake, and prints rows/s, events/s and the peak resident memory (a child's peak includes its parent's
at the fork, on Linux: the parent writes the files without holding them); the last line is the ratio of the
largest file's peak memory to the smallest's (near 1 means memory does not grow with the file).
"""

import csv
import datetime as dt
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from child_process import measure, row_counts

HEADER = [
    "order_id",
    "customer_id",
    "ordered_at",
    "product_id",
    "quantity",
    "unit_price",
    "category",
    "country",
]
FIRST_DAY = dt.datetime(2025, 1, 1)


def order_lines(rows: int) -> Iterator[list[str]]:
    draw, order, written = random.Random(7), 0, 0
    while written < rows:
        order += 1
        at = FIRST_DAY + dt.timedelta(minutes=order * 525_600 * 5 // (rows * 2))
        customer = f"c{draw.randrange(20_000)}"
        for _ in range(min(draw.randint(1, 5), rows - written)):
            roll = draw.random()
            quantity = -1 if roll < 0.02 else 0 if roll < 0.025 else draw.randint(1, 4)
            product = draw.randrange(2_000)
            written += 1
            yield [f"o{order}", customer, at.isoformat(sep=" "), f"p{product}", str(quantity),
                   f"{1 + product % 97 * 0.5:.2f}", f"cat{product % 40}", "DE"]  # fmt: skip


def write_files(rows: int, folder: Path) -> list[Path]:
    """Written as they are generated: the child inherits the parent's peak memory, which must stay small."""
    csv_path, parquet_path = folder / f"orders-{rows}.csv", folder / f"orders-{rows}.parquet"
    with csv_path.open("w", newline="") as target:
        writer = csv.writer(target)
        writer.writerow(HEADER)
        writer.writerows(order_lines(rows))
    as_text = pa_csv.ConvertOptions(column_types=dict.fromkeys(HEADER, pa.string()))
    with (
        pa_csv.open_csv(csv_path, convert_options=as_text) as batches,
        pq.ParquetWriter(parquet_path, batches.schema) as parquet,
    ):
        for batch in batches:
            parquet.write_batch(batch)
    return [csv_path, parquet_path]


def main() -> None:
    peaks = []
    with tempfile.TemporaryDirectory() as folder:
        for rows in row_counts(__doc__):
            for path in write_files(rows, Path(folder)):
                size_mb = path.stat().st_size / 1e6
                result = measure("orders", str(path), f"{folder}/lake-{path.name}")
                peaks.append(result["peak_mb"])
                seconds = result["seconds"]
                print(
                    f"{path.suffix[1:]:>7} {rows:>10,} rows ({size_mb:6.1f} MB): {seconds:6.1f} s, "
                    f"{rows / seconds:>9,.0f} rows/s, {result['events'] / seconds:>9,.0f} events/s, "
                    f"peak memory {result['peak_mb']:5.0f} MB"
                )
    print(f"peak memory ratio largest/smallest file: {max(peaks[-2:]) / max(peaks[:2]):.2f}")


if __name__ == "__main__":
    main()
