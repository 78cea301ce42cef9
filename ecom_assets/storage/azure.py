"""The lake on Azure storage: ``abfss://<container>@<account>.dfs.core.windows.net/<prefix>``.

Everything goes through the Blob API (delta-rs, adlfs and azure-storage-blob all use it), which real
ADLS Gen2 accounts serve as well as Azurite does; Azurite has no DFS endpoint. Credentials come from
``AzureSettings``. The options built here carry secrets, so they never print themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from adlfs import AzureBlobFileSystem
from azure.core.credentials import AzureNamedKeyCredential, AzureSasCredential
from azure.identity import DefaultAzureCredential

from ecom_assets.settings import AzureSettings

AZURE_SCHEMES = ("abfss://", "abfs://")
# Azurite's built-in account and its published key (a public constant of the emulator, not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_PUBLIC_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
_URI = re.compile(
    r"abfss?://(?P<container>[^@/]+)@(?P<account>[^./]+)\.dfs\.core\.windows\.net(?P<prefix>/.*)?"
)


class SecretOptions(dict):
    """Storage options that hold a key or token: a plain dict to the libraries, redacted when printed."""

    def __repr__(self) -> str:
        return f"SecretOptions(keys={sorted(self)})"

    __str__ = __repr__


@dataclass(frozen=True)
class BlobLocation:
    """Where a lake lives: the storage account, the container and the folder inside it."""

    account: str
    container: str
    prefix: str

    @classmethod
    def parse(cls, uri: str) -> BlobLocation:
        match = _URI.fullmatch(uri.rstrip("/"))
        if match is None:
            raise ValueError(
                f"lake URI {uri}: expected abfss://<container>@<account>.dfs.core.windows.net/<prefix>"
            )
        return cls(match["account"], match["container"], (match["prefix"] or "").strip("/"))


def is_azure_uri(uri: str) -> bool:
    return uri.startswith(AZURE_SCHEMES)


def blob_account_url(account: str, settings: AzureSettings) -> str:
    if settings.storage_use_emulator:
        return f"{settings.emulator_blob_url.rstrip('/')}/{account}"
    return f"https://{account}.blob.core.windows.net"


def account_key(account: str, settings: AzureSettings) -> str | None:
    if settings.storage_account_key:
        return settings.storage_account_key.get_secret_value()
    if settings.storage_use_emulator and account == AZURITE_ACCOUNT and not settings.storage_sas_token:
        return AZURITE_PUBLIC_KEY
    return None


def delta_storage_options(location: BlobLocation, settings: AzureSettings) -> SecretOptions:
    """delta-rs (object_store) options for the account; the same keys serve ``polars.scan_delta``."""
    # A request that hangs (a half-open connection during an outage) gives up after `timeout`, and all
    # retries of one operation after `retry_timeout` (object_store's default is 180 s): a run fails with
    # the lake's one-line error within a minute, and the service's log writer tries again at its next flush.
    options = SecretOptions(account_name=location.account, timeout="30s", retry_timeout="60s")
    if settings.storage_use_emulator:
        # An explicit endpoint rather than use_emulator, which reads Azurite's URL from the process
        # environment only: this way the settings alone say where Azurite is.
        options.update(azure_storage_endpoint=blob_account_url(location.account, settings), allow_http="true")
    if key := account_key(location.account, settings):
        options["account_key"] = key
    elif settings.storage_sas_token:
        options["sas_token"] = settings.storage_sas_token.get_secret_value()
    else:
        options.update(_entra_options(settings))
    return options


def _entra_options(settings: AzureSettings) -> dict[str, str]:
    identity = {"client_id": settings.client_id or "", "tenant_id": settings.tenant_id or ""}
    if settings.client_secret:
        return {**identity, "client_secret": settings.client_secret.get_secret_value()}
    if settings.federated_token_file:
        return {**identity, "federated_token_file": settings.federated_token_file}
    if settings.use_azure_cli:
        return {"use_azure_cli": "true"}
    # A managed identity: the user-assigned one named by client_id, else the system-assigned one.
    return {"client_id": settings.client_id} if settings.client_id else {}


def blob_credential(account: str, settings: AzureSettings):
    """The credential for azure-storage-blob clients, such as the Event Hubs checkpoint store."""
    if key := account_key(account, settings):
        return AzureNamedKeyCredential(account, key)
    if settings.storage_sas_token:
        return AzureSasCredential(settings.storage_sas_token.get_secret_value())
    return DefaultAzureCredential()


# Other processes write the lake (ingestion, Dagster runs) while a reader lives on (the scoring service):
# no cached listings, and no filesystem instance shared behind the lake's back.
_FRESH = {"skip_instance_cache": True, "use_listings_cache": False}


def blob_filesystem(location: BlobLocation, settings: AzureSettings) -> AzureBlobFileSystem:
    """An fsspec filesystem on the account's Blob endpoint; it takes full ``abfss://`` paths."""
    key = account_key(location.account, settings)
    sas = settings.storage_sas_token.get_secret_value() if settings.storage_sas_token else None
    if settings.storage_use_emulator:  # http and a custom endpoint: only a connection string says both
        secret = f"AccountKey={key}" if key else f"SharedAccessSignature={sas}"
        connection = (
            f"DefaultEndpointsProtocol=http;AccountName={location.account};{secret};"
            f"BlobEndpoint={blob_account_url(location.account, settings)};"
        )
        return AzureBlobFileSystem(connection_string=connection, **_FRESH)
    # With neither key nor SAS, adlfs signs in through DefaultAzureCredential (Entra ID).
    return AzureBlobFileSystem(
        account_name=location.account, account_key=key, sas_token=sas, anon=False, **_FRESH
    )
