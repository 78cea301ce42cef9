"""The lake on Azure Blob storage (Azurite): the same behaviour as on disk, and no secret ever shown."""

import datetime as dt
import inspect
import logging
import os

import pytest
from azure.core.exceptions import ResourceNotFoundError

from ecom_assets.events.simulator import simulate
from ecom_assets.operations.materialize import materialize_range
from ecom_assets.settings import AzureSettings, get_settings
from ecom_assets.storage.azure import BlobLocation, delta_storage_options
from ecom_assets.storage.errors import LakeUnavailableError
from ecom_assets.storage.lake import Lake, TableNotFoundError
from ecom_assets_tests import test_lake
from ecom_assets_tests.test_lake import D1, frame

LOCAL_LAKE_TESTS = [
    case
    for name, case in inspect.getmembers(test_lake, inspect.isfunction)
    if name.startswith("test_") and list(inspect.signature(case).parameters) == ["lake"]
]


@pytest.mark.parametrize("case", LOCAL_LAKE_TESTS, ids=lambda case: case.__name__)
def test_every_local_lake_test_passes_on_azurite(case, azure_lake):
    case(azure_lake)


def test_tables_and_files_are_blobs_in_the_configured_container(azure_lake, azurite):
    azure_lake.write_table("silver/x", frame(D1, [1, 2]), "day", [D1])
    azure_lake.write_bytes("landing/events/date=2026-10-01/a.jsonl", b"{}\n")

    container = azurite.service().get_container_client(azure_lake.azure.container)
    names = {blob.name for blob in container.list_blobs(name_starts_with="lake/")}
    assert "lake/silver/x/_delta_log/00000000000000000000.json" in names
    assert "lake/landing/events/date=2026-10-01/a.jsonl" in names
    assert not [name for name in names if name.endswith(".tmp")], "a staging blob was left behind"
    assert azure_lake.read_table("silver/x")["value"].sort().to_list() == [1, 2]


def test_a_long_lived_lake_sees_files_that_another_process_writes(azure_lake):
    folder = "landing/events/date=2026-10-01"
    azure_lake.write_bytes(f"{folder}/a.jsonl", b"{}\n")
    assert azure_lake.list_files(folder) == [f"{folder}/a.jsonl"]

    Lake.from_settings().write_bytes(f"{folder}/b.jsonl", b"{}\n")

    assert azure_lake.list_files(folder) == [f"{folder}/a.jsonl", f"{folder}/b.jsonl"]
    assert azure_lake.exists(f"{folder}/b.jsonl")


def test_the_account_key_never_shows_in_reprs_errors_or_logs(azure_lake, azurite, caplog):
    caplog.set_level(logging.DEBUG)
    shown = [repr(azure_lake), str(azure_lake.storage_options), repr(azure_lake.storage_options)]
    wrong_container = Lake(azure_lake.uri.replace(azure_lake.azure.container, "no-such-container"))
    failures = [
        (TableNotFoundError, lambda: azure_lake.read_table("gold/missing")),
        (FileNotFoundError, lambda: azure_lake.read_bytes("landing/missing.jsonl")),
        (FileNotFoundError, lambda: wrong_container.read_bytes("landing/a.jsonl")),
        (ResourceNotFoundError, lambda: wrong_container.write_bytes("landing/a.jsonl", b"x")),
        (LakeUnavailableError, lambda: wrong_container.write_table("gold/x", frame(D1, [1]))),
    ]
    for expected, failing in failures:
        with pytest.raises(expected) as error:
            failing()
        shown += [str(error.value), repr(error.value)]
    assert azurite.key in azure_lake.storage_options.values(), "the lake does hold the key it must not show"
    assert azurite.key not in "\n".join(shown)
    assert caplog.text, "nothing was logged: the check below would prove nothing"
    assert azurite.key not in caplog.text


def test_the_medallion_on_azurite_matches_a_local_lake(azure_lake, azurite, tmp_path, monkeypatch):
    start, end = dt.date(2026, 10, 1), dt.date(2026, 10, 2)
    local = Lake(str(tmp_path / "local"))
    runs = []
    for lake in (azure_lake, local):
        # without replenishment buyers (who barely browse) these 40 customers send a few malformed lines
        simulate(lake, start, days=2, customers=40, seed=5, progress=False, replenishment_share=0.0)
        monkeypatch.setenv("ECOM_LAKE_URI", lake.uri)
        get_settings.cache_clear()
        runs += materialize_range(start, end, selection="group:bronze or group:silver or group:gold")

    dagster_events = repr([event for run in runs for event in run.all_events])
    assert azure_lake.uri in dagster_events and azurite.key not in dagster_events  # metadata and logs
    for key, order in [("silver/events", "event_id"), ("silver/events_rejected", "line_number")]:
        on_azure = azure_lake.read_table(key).sort("source_file", order)
        assert on_azure.height > 0 and on_azure.equals(local.read_table(key).sort("source_file", order)), key
    facts = azure_lake.read_table("gold/fact_events").sort("event_id")
    assert facts.equals(local.read_table("gold/fact_events").sort("event_id"))


def test_lake_uri_that_is_not_abfss_names_the_expected_form():
    with pytest.raises(ValueError, match=r"abfss://<container>@<account>\.dfs\.core\.windows\.net"):
        Lake("abfss://container-without-account/prefix")


BOUNDED_RETRIES = {"timeout": "30s", "retry_timeout": "60s"}


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"AZURE_STORAGE_ACCOUNT_KEY": "k"}, {"account_key": "k"}),
        ({"AZURE_STORAGE_SAS_TOKEN": "sv=1&sig=s"}, {"sas_token": "sv=1&sig=s"}),
        (
            {"AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t", "AZURE_CLIENT_SECRET": "s"},
            {"client_id": "c", "tenant_id": "t", "client_secret": "s"},
        ),
        (
            {"AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t", "AZURE_FEDERATED_TOKEN_FILE": "/var/token"},
            {"client_id": "c", "tenant_id": "t", "federated_token_file": "/var/token"},
        ),
        ({"AZURE_USE_AZURE_CLI": "true"}, {"use_azure_cli": "true"}),
        ({"AZURE_CLIENT_ID": "c"}, {"client_id": "c"}),
        ({}, {}),
    ],
    ids=["account-key", "sas", "service-principal", "workload-identity", "azure-cli", "user-mi", "system-mi"],
)
def test_each_azure_credential_becomes_delta_storage_options(monkeypatch, environment, expected):
    for name in [name for name in os.environ if name.startswith("AZURE")]:
        monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    location = BlobLocation.parse("abfss://lake@prodaccount.dfs.core.windows.net/ecom")

    options = delta_storage_options(location, AzureSettings())

    assert dict(options) == {"account_name": "prodaccount", **BOUNDED_RETRIES, **expected}
    assert (location.container, location.prefix) == ("lake", "ecom")
