"""REES46 import speed and memory: rows per second, and peak memory that stays flat as the file grows.

    .venv/bin/python bench/rees46_import.py [--rows 200000 1000000]

Builds REES46 files of each size from the shared sample (its rows repeated over the days of October),
imports each in a fresh process into a temporary local lake, and prints rows/s, MB/s of CSV and the
peak resident memory; the last line is the ratio of the largest file's peak memory to the smallest's
(near 1 means memory does not grow with the file). The full October 2019 file has 42.4 M rows.
"""

import tempfile
from pathlib import Path

from child_process import measure, row_counts

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "rees46_2019-10-01_head.csv"


def build_csv(rows: int, target: Path) -> None:
    lines = SAMPLE.read_text().splitlines()
    header, body = lines[0], [line for line in lines[1:] if line.count(",") == 8]
    with target.open("w") as out:
        out.write(header + "\n")
        for index in range(rows):
            block, row = divmod(index, len(body))
            out.write(body[row].replace("2019-10-01", f"2019-10-{1 + block % 31:02d}", 1) + "\n")


def main() -> None:
    peaks = []
    with tempfile.TemporaryDirectory() as folder:
        for rows in row_counts(__doc__):
            csv_path = Path(folder) / f"rees46-{rows}.csv"
            build_csv(rows, csv_path)
            size_mb = csv_path.stat().st_size / 1e6
            result = measure("rees46", str(csv_path), f"{folder}/lake-{rows}")
            peaks.append(result["peak_mb"])
            print(
                f"{rows:>10,} rows ({size_mb:7.1f} MB): {result['seconds']:6.1f} s, "
                f"{rows / result['seconds']:>9,.0f} rows/s, {size_mb / result['seconds']:5.1f} MB/s, "
                f"peak memory {result['peak_mb']:6.0f} MB"
            )
    print(f"peak memory ratio largest/smallest file: {peaks[-1] / peaks[0]:.2f}")


if __name__ == "__main__":
    main()
