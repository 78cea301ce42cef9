"""The ``ecom`` command (``shared/CONTRACT.md`` section 4).

Every subcommand fails with one line that names the input at fault and exits 2.
"""

import argparse
import datetime as dt
import sys
from pathlib import Path

from rich.console import Console

from ecom_assets.events.importing import ImportSummary
from ecom_assets.events.simulator.replenishment import DEFAULT_REPLENISHMENT_SHARE
from ecom_assets.operations.errors import RunFailedError
from ecom_assets.settings import get_settings
from ecom_assets.storage.errors import ConcurrentWriteError, LakeUnavailableError
from ecom_assets.storage.lake import Lake, TableNotFoundError


class CliError(Exception):
    """A problem with the user's input, reported as one line."""


def iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 1")
    return int(text)


def run_simulate(args: argparse.Namespace) -> None:
    from ecom_assets.events.simulator import simulate

    if args.to == "eventhubs":
        from ecom_assets.events.eventhubs import send_simulated

        sent = send_simulated(
            args.start, args.days, args.customers, args.seed, args.drift_from, sys.stderr.isatty()
        )
        print(f"sent {sent:,} events to Event Hubs")
        return
    summary = simulate(
        Lake.from_settings(),
        start=args.start,
        days=args.days,
        customers=args.customers,
        seed=args.seed,
        drift_from=args.drift_from,
        progress=sys.stderr.isatty(),
        replenishment_share=args.replenishment_share,
    )
    print(summary)


def run_ingest(args: argparse.Namespace) -> None:
    from ecom_assets.events.eventhubs import ingest

    counts = ingest(Lake.from_settings(), seconds=args.seconds)
    print(f"landed {counts.events:,} events in {counts.files:,} files, {counts.checkpoints:,} checkpoints")


def report_import(summary: ImportSummary) -> None:
    """The first rejected rows as ``FILE:LINE: reason`` on stderr, then the summary."""
    for example in summary.reject_examples:
        print(example, file=sys.stderr)
    if more := summary.rejected_rows - len(summary.reject_examples):
        print(f"... and {more:,} more", file=sys.stderr)
    print(summary)
    first_partition = dt.date.fromisoformat(get_settings().partitions_start)
    if summary.events_by_date and (first := min(summary.events_by_date)) < first_partition:
        print(
            f"note: events from {first} are before the first daily partition {first_partition}; "
            f"set ECOM_PARTITIONS_START={first} for `ecom materialize` and Dagster"
        )


def run_import_rees46(args: argparse.Namespace) -> None:
    from ecom_assets.events.rees46 import import_rees46

    report_import(import_rees46(Lake.from_settings(), args.files, progress=sys.stderr.isatty()))


def run_import_orders(args: argparse.Namespace) -> None:
    from ecom_assets.events.orders import import_orders

    lake = Lake.from_settings()
    progress = sys.stderr.isatty()
    summary = import_orders(lake, args.files, args.map, args.timezone, args.time_format, progress=progress)
    report_import(summary)


def run_materialize(args: argparse.Namespace) -> None:
    from ecom_assets.operations.materialize import materialize_range

    if args.end < args.start:
        raise CliError(f"--end {args.end} is before --start {args.start}")
    materialize_range(args.start, args.end, selection=args.select, console=Console(stderr=True))


def port_number(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (1-65535)")
    return int(text)


def run_serve(args: argparse.Namespace) -> None:
    from serving.app import run

    run(host=args.host, port=args.port, workers=args.workers)


def run_score_batch(args: argparse.Namespace) -> None:
    from ecom_assets.ml.batch_scores import export_batch_scores

    rows = export_batch_scores(Lake.from_settings(), args.date, args.out)
    print(f"scored {rows:,} customers as of {args.date} into {args.out}")


def run_demo(args: argparse.Namespace) -> None:
    from ecom_assets.operations.demo import run_demo as demo

    demo()


class OneLineParser(argparse.ArgumentParser):
    """Argument errors in one line (``ecom materialize: error: ...``), without the usage block."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="ecom", description="E-commerce purchase propensity platform")
    commands = parser.add_subparsers(dest="command", required=True)

    simulate = commands.add_parser("simulate", help="write realistic synthetic events into the landing zone")
    simulate.add_argument("--start", type=iso_date, required=True)
    # simulate() checks the counts, so a bad one is reported in one line like every other input error
    simulate.add_argument("--days", type=int, required=True)
    simulate.add_argument("--customers", type=int, default=1000)
    simulate.add_argument("--seed", type=int, default=7)
    simulate.add_argument("--drift-from", type=iso_date, default=None, help="change behaviour from this date")
    simulate.add_argument(
        "--replenishment-share",
        type=float,
        default=DEFAULT_REPLENISHMENT_SHARE,
        help="share of customers who reorder on a personal cadence and barely browse",
    )
    simulate.add_argument("--to", choices=("landing", "eventhubs"), default="landing", help="where events go")
    simulate.set_defaults(handler=run_simulate)

    ingest = commands.add_parser("ingest", help="land the events of an Event Hub in the lake, until stopped")
    ingest.add_argument("--seconds", type=positive_int, default=None, help="stop after this many seconds")
    ingest.set_defaults(handler=run_ingest)

    rees46 = commands.add_parser("import-rees46", help="convert REES46 CSV files into landing events")
    rees46.add_argument("files", nargs="+", type=Path, metavar="FILE.csv[.gz]")
    rees46.set_defaults(handler=run_import_rees46)

    orders = commands.add_parser("import-orders", help="convert order lines into landing purchase events")
    orders.add_argument("files", nargs="+", type=Path, metavar="FILE.csv[.gz]|FILE.parquet")
    orders.add_argument(
        "--map", action="append", default=[], metavar="FIELD=COLUMN", help="read FIELD from COLUMN"
    )
    orders.add_argument("--timezone", default="UTC", help="zone of times without an offset (Europe/Berlin)")
    orders.add_argument(
        "--time-format", default=None, help="strptime format of non-ISO times ('%%d/%%m/%%Y %%H:%%M')"
    )
    orders.set_defaults(handler=run_import_orders)

    materialize = commands.add_parser("materialize", help="materialise the asset graph for daily partitions")
    materialize.add_argument("--start", type=iso_date, required=True)
    materialize.add_argument("--end", type=iso_date, required=True)
    materialize.add_argument("--select", default="*", help="Dagster asset selection, e.g. 'group:silver'")
    materialize.set_defaults(handler=run_materialize)

    serve = commands.add_parser("serve", help="start the scoring service (FastAPI on uvicorn)")
    serve.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to accept outside connections")
    serve.add_argument("--port", type=port_number, default=8000)
    serve.add_argument("--workers", type=positive_int, default=1, help="processes, each loading the model")
    serve.set_defaults(handler=run_serve)

    score_batch = commands.add_parser("score-batch", help="export the champion's scores of one as-of date")
    score_batch.add_argument("--date", type=iso_date, required=True, help="as-of date of the features")
    score_batch.add_argument("--out", type=Path, required=True, metavar="FILE.csv|FILE.parquet")
    score_batch.set_defaults(handler=run_score_batch)

    demo = commands.add_parser("demo", help="the whole loop on the embedded default")
    demo.set_defaults(handler=run_demo)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except (
        CliError,
        RunFailedError,
        TableNotFoundError,
        LakeUnavailableError,
        ConcurrentWriteError,
        FileNotFoundError,
        ValueError,
    ) as error:
        print(f"ecom {args.command}: error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
