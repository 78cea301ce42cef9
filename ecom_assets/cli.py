"""The ``ecom`` command (``shared/CONTRACT.md`` section 4).

Every subcommand fails with one line that names the input at fault and exits 2.
"""

import argparse
import datetime as dt
import sys
from pathlib import Path

from ecom_assets.automation.backfill import RunFailedError
from ecom_assets.resources.lake import Lake, TableNotFoundError


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

    summary = simulate(
        Lake.from_settings(),
        start=args.start,
        days=args.days,
        customers=args.customers,
        seed=args.seed,
        drift_from=args.drift_from,
    )
    print(summary)


def run_import_rees46(args: argparse.Namespace) -> None:
    from ecom_assets.events.rees46 import import_rees46

    summary = import_rees46(Lake.from_settings(), args.files, progress=sys.stderr.isatty())
    for example in summary.malformed_examples:
        print(f"malformed line: {example}", file=sys.stderr)
    print(summary)


def run_materialize(args: argparse.Namespace) -> None:
    from ecom_assets.automation.backfill import materialize_range

    if args.end < args.start:
        raise CliError(f"--end {args.end} is before --start {args.start}")
    materialize_range(args.start, args.end, selection=args.select)


def run_demo(args: argparse.Namespace) -> None:
    from ecom_assets.automation.demo import run_demo as demo

    demo()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ecom", description="E-commerce purchase propensity platform")
    commands = parser.add_subparsers(dest="command", required=True)

    simulate = commands.add_parser("simulate", help="write realistic synthetic events into the landing zone")
    simulate.add_argument("--start", type=iso_date, required=True)
    simulate.add_argument("--days", type=positive_int, required=True)
    simulate.add_argument("--customers", type=positive_int, default=1000)
    simulate.add_argument("--seed", type=int, default=7)
    simulate.add_argument("--drift-from", type=iso_date, default=None, help="change behaviour from this date")
    simulate.set_defaults(handler=run_simulate)

    rees46 = commands.add_parser("import-rees46", help="convert REES46 CSV files into landing events")
    rees46.add_argument("files", nargs="+", type=Path, metavar="FILE.csv[.gz]")
    rees46.set_defaults(handler=run_import_rees46)

    materialize = commands.add_parser("materialize", help="materialise the asset graph for daily partitions")
    materialize.add_argument("--start", type=iso_date, required=True)
    materialize.add_argument("--end", type=iso_date, required=True)
    materialize.add_argument("--select", default="*", help="Dagster asset selection, e.g. 'group:silver'")
    materialize.set_defaults(handler=run_materialize)

    demo = commands.add_parser("demo", help="the whole loop on the embedded default")
    demo.set_defaults(handler=run_demo)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except (CliError, RunFailedError, TableNotFoundError, FileNotFoundError, ValueError) as error:
        print(f"ecom {args.command}: error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
