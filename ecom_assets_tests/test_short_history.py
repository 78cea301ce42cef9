"""A young lake: ``ecom materialize`` runs every step it can and names each skipped step, exiting 0."""

import datetime as dt

from ecom_assets.cli import main
from ecom_assets.events.simulator import simulate

START = dt.date(2026, 10, 1)


def test_a_short_range_completes_what_it_can_and_names_each_skipped_step(lake, capsys):
    simulate(lake, START, days=5, customers=60, seed=3, progress=False)
    end = START + dt.timedelta(days=4)
    main(["materialize", "--start", START.isoformat(), "--end", end.isoformat()])  # no SystemExit: exit 0

    printed = capsys.readouterr().err
    skipped = [line for line in printed.splitlines() if "skipped" in line]
    assert len(skipped) == 4, printed
    labels, model, scores, performance = skipped
    assert (
        "labels: skipped, no as-of date up to 2026-09-28 has its 7-day look-ahead yet; land 3 more days"
        in labels
    )
    assert "model and champion: skipped, 0 of the 3 labelled as-of dates it needs" in model
    assert model.endswith("land 32 more days")
    assert "scores and monitoring: skipped, no champion yet" in scores
    assert "realised performance: skipped, no as-of date up to 2026-09-28 has its 7-day" in performance
    assert lake.read_table("gold/customer_daily_features")["as_of_date"].max() == end
    assert not lake.table_exists("ml/batch_scores")
