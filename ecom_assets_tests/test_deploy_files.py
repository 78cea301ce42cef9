"""The deployment files agree with each other: the webserver image's pins come from pyproject.toml, and the
Helm values configure the same instance as deploy/dagster.yaml."""

import importlib.util
import tomllib

import pytest
import yaml

from ecom_assets_tests.postgres import DEPLOY, ROOT

spec = importlib.util.spec_from_file_location("service_requirements", DEPLOY / "service_requirements.py")
service_requirements = importlib.util.module_from_spec(spec)
spec.loader.exec_module(service_requirements)


def test_the_webserver_image_installs_the_pinned_dagster_and_the_deploy_extra():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())

    requirements = service_requirements.service_requirements(pyproject)

    names = [service_requirements.requirement_name(requirement) for requirement in requirements]
    assert names[:2] == ["dagster", "dagster-webserver"]
    assert {"dagster-postgres", "dagster-azure", "psycopg2-binary", "sqlalchemy"} <= set(names)
    assert all("==" in requirement for requirement in requirements)
    assert "ecom-propensity" not in names


def test_a_missing_pin_is_named():
    pyproject = {"project": {"dependencies": ["dagster>=1"], "optional-dependencies": {"deploy": []}}}

    with pytest.raises(SystemExit, match="no pinned dagster, dagster-webserver"):
        service_requirements.service_requirements(pyproject)


def test_the_helm_values_configure_the_instance_of_deploy_dagster_yaml():
    instance = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    daemon = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())["dagsterDaemon"]
    queue = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    retries, monitoring = instance["run_retries"], instance["run_monitoring"]

    assert queue["maxConcurrentRuns"] == instance["run_coordinator"]["config"]["max_concurrent_runs"]
    assert queue["tagConcurrencyLimits"] == instance["run_coordinator"]["config"]["tag_concurrency_limits"]
    assert daemon["runRetries"] == {
        "enabled": retries["enabled"],
        "maxRetries": retries["max_retries"],
        "retryOnAssetOrOpFailure": retries["retry_on_asset_or_op_failure"],
    }
    assert daemon["runMonitoring"]["maxRuntimeSeconds"] == monitoring["max_runtime_seconds"]
    assert daemon["runMonitoring"]["startTimeoutSeconds"] == monitoring["start_timeout_seconds"]
