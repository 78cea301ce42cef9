"""The whole loop with the lake on Azure Blob storage (Azurite): simulated events through the asset graph
to drift reports and a champion model, served by ``ecom serve`` reading the same lake."""

import datetime as dt

import httpx

from ecom_assets.events.simulator import simulate
from ecom_assets.ml.drift import report_path
from ecom_assets.ml.registry import ModelRegistry
from ecom_assets.operations.materialize import materialize_range
from ecom_assets_tests.serving_support import running_service, wait_until

START, DAYS = dt.date(2026, 9, 1), 40
END = START + dt.timedelta(days=DAYS - 1)


def test_simulated_events_to_a_served_champion_on_azurite(azure_lake, azurite, tmp_path):
    simulate(azure_lake, START, DAYS, customers=300, seed=7, progress=False)

    runs = materialize_range(START, END)

    drift = azure_lake.read_table("monitoring/drift_report")
    assert drift.height > 0 and azure_lake.exists(report_path(drift["as_of_date"].max()))
    champion = ModelRegistry(azure_lake).champion_version()
    scored = azure_lake.read_table("ml/batch_scores", "as_of_date", [END]).sort("customer_id").head(25)
    customer = scored["customer_id"][0]
    with running_service(azure_lake, tmp_path) as url:
        wait_until(lambda: httpx.get(f"{url}/ready").status_code == 200, what="the service to be ready")
        answer = httpx.post(f"{url}/score", json={"customer_id": customer}).json()
        batch = httpx.post(
            f"{url}/score/batch", json={"customer_ids": scored["customer_id"].to_list()}
        ).json()
    assert answer["model_version"] == champion and not answer["cold_start"]
    assert answer["features_as_of"] == END.isoformat()
    # Online and batch scores of the same customers and model version are the same numbers.
    assert answer["score"] == scored["score"][0]
    assert [row["score"] for row in batch] == scored["score"].to_list()
    assert {row["model_version"] for row in batch} == set(scored["model_version"]) == {champion}
    shown = repr([event for run in runs for event in run.all_events])
    shown += "".join(path.read_text() for path in tmp_path.glob("serve-*.log"))
    assert azure_lake.uri in shown and azurite.key not in shown
