"""Shared fixtures: a temporary lake and Dagster home for every test, never the user's."""

import pytest

from ecom_assets.storage.lake import Lake
from ecom_assets_tests.azure_endpoint import azure_blob_endpoint  # noqa: F401  (Azurite at an Azure name)
from ecom_assets_tests.azurite import azure_lake, azurite  # noqa: F401  (fixtures: the lake on Azurite)
from ecom_assets_tests.fault_harness import uninterrupted_reference  # noqa: F401  (fixture: a finished run)
from ecom_assets_tests.outage_proxy import outage  # noqa: F401  (fixture: Azurite behind a cuttable proxy)
from ecom_assets_tests.postgres import postgres, postgres_dagster_home  # noqa: F401  (Dagster on PostgreSQL)
from ecom_assets_tests.spark_support import spark  # noqa: F401  (fixture: one Spark session per process)


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """No test touches ./.lake or ~/.dagster: each gets its own lake and DAGSTER_HOME."""
    from ecom_assets.settings import get_settings

    monkeypatch.setenv("ECOM_LAKE_URI", str(tmp_path / "lake"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake(str(tmp_path / "lake"))
