"""Typed settings read from the environment (prefix ``ECOM_``), with defaults for the embedded local setup."""

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class EcomSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ECOM_", extra="ignore")

    lake_uri: str = Field(
        "./.lake", description="Local path or abfss://<container>@<account>.dfs.core.windows.net/<prefix>"
    )
    partitions_start: str = Field(
        "2019-10-01", description="First daily partition (REES46 sample starts here)"
    )
    late_window_days: int = Field(
        3, ge=0, description="How many arrival days after its event date an event may land"
    )
    max_reject_rate: float = Field(
        0.05, ge=0, le=1, description="Reject-rate ceiling for the data-quality check"
    )
    psi_warn: float = Field(0.1, ge=0, description="PSI at or above this marks a feature or score 'warn'")
    psi_alert: float = Field(0.2, ge=0, description="PSI at or above this is an 'alert': the model retrains")
    retrain_cooldown_hours: float = Field(
        24.0,
        ge=0,
        description="After a retraining a monitoring sensor requested, its further alerts wait this long",
    )
    decay_margin: float = Field(
        0.03, ge=0, description="Realised ROC-AUC this far below the validation figure counts as decayed"
    )
    decay_days: int = Field(
        3, ge=1, description="Consecutive decayed scoring days after which the model retrains"
    )
    engine: Literal["polars", "spark"] = Field(
        "polars", description="What computes the data layers: polars in-process, or Spark via Spark Connect"
    )
    spark_remote: str | None = Field(
        None,
        description="Spark Connect URL (sc://host:port) of a Spark 4 cluster, Sail or Databricks; "
        "unset with engine=spark, a local Sail server is started for the process",
    )

    max_training_rows: int = Field(
        2_000_000, ge=1000, description="Training rows above this are sampled (fixed seed); metadata says so"
    )
    gate_roc_auc_floor: float = Field(0.55, description="Promotion: minimum validation ROC-AUC")
    gate_pr_auc_margin: float = Field(0.0, description="Promotion: PR-AUC above the validation base rate")
    gate_baseline_roc_auc_margin: float = Field(
        0.02, description="Promotion: ROC-AUC above the recency baseline's on the same rows"
    )
    gate_baseline_pr_auc_margin: float = Field(
        0.01, description="Promotion: PR-AUC above the recency baseline's on the same rows"
    )
    gate_champion_tolerance: float = Field(
        0.0, ge=0, description="Promotion: how far below the champion's ROC-AUC / PR-AUC a candidate may be"
    )


class AzureSettings(BaseSettings):
    """Credentials for an ``abfss://`` lake, from the standard Azure variables (never code or dagster.yaml).

    With neither an account key nor a SAS token, storage signs in with Microsoft Entra ID: a service
    principal (``AZURE_CLIENT_ID``, ``AZURE_TENANT_ID``, ``AZURE_CLIENT_SECRET``), workload identity
    (``AZURE_FEDERATED_TOKEN_FILE``), a managed identity, or the Azure CLI login (``AZURE_USE_AZURE_CLI``).
    """

    model_config = SettingsConfigDict(env_prefix="AZURE_", extra="ignore")

    storage_account_key: SecretStr | None = None
    storage_sas_token: SecretStr | None = None
    storage_use_emulator: bool = Field(False, description="Talk to Azurite at AZURITE_BLOB_STORAGE_URL")
    emulator_blob_url: str = Field("http://127.0.0.1:10000", validation_alias="AZURITE_BLOB_STORAGE_URL")
    client_id: str | None = None
    tenant_id: str | None = None
    client_secret: SecretStr | None = None
    federated_token_file: str | None = None
    use_azure_cli: bool = False


class EventHubsSettings(BaseSettings):
    """Where ``ecom simulate --to eventhubs`` sends and ``ecom ingest`` reads (prefix ``ECOM_EVENTHUB_``).

    Either a connection string, or a namespace reached with the Entra ID credentials of ``AzureSettings``.
    """

    model_config = SettingsConfigDict(env_prefix="ECOM_EVENTHUB_", extra="ignore")

    connection_string: SecretStr | None = None
    namespace: str | None = Field(None, description="<namespace>.servicebus.windows.net")
    name: str = Field("events", description="The event hub")
    consumer_group: str = "$Default"
    checkpoint_container: str = Field("eventhub-checkpoints", description="On the lake's storage account")
    batch_events: int = Field(5000, ge=1, description="Events per landing file at most")
    batch_seconds: float = Field(60.0, gt=0, description="Longest wait before a partial file is written")


@lru_cache
def get_settings() -> EcomSettings:
    return EcomSettings()
