"""The lake on Azure storage: ``abfss://<container>@<account>.dfs.core.windows.net/<prefix>``.

Everything goes through the Blob API (delta-rs, adlfs and azure-storage-blob all use it), which real
ADLS Gen2 accounts serve as well as Azurite does; Azurite has no DFS endpoint. Credentials come from
``AzureSettings``. The options built here carry secrets, so they never print themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from adlfs import AzureBlobFileSystem
from azure.core.credentials import AzureNamedKeyCredential, AzureSasCredential, TokenCredential
from azure.identity import DefaultAzureCredential

from ecom_assets.settings import AzureSettings

AZURE_SCHEMES = ("abfss://", "abfs://")
_URI = re.compile(r"abfss?://(?P<container>[^@/]+)@(?P<account>[^./]+)\.dfs\.core\.windows\.net(?P<prefix>/.*)?")


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


def delta_storage_options(location: BlobLocation, settings: AzureSettings) -> SecretOptions:
    """delta-rs (object_store) options for the account; the same keys serve ``polars.scan_delta``."""
    options = SecretOptions(account_name=location.account)
    if settings.storage_use_emulator:
        # An explicit endpoint rather than use_emulator: the latter reads the URL from the process
        # environment only, and this way the settings say where Azurite is.
        options.update(azure_storage_endpoint=blob_account_url(location.account, settings), allow_http="true")
    if settings.storage_account_key:
        options["account_key"] = settings.storage_account_key.get_secret_value()
    elif settings.storage_sas_token:
        options["sas_token"] = settings.storage_sas_token.get_secret_value()
    elif settings.client_secret:
        options.update(
            client_id=settings.client_id or "",
            tenant_id=settings.tenant_id or "",
            client_secret=settings.client_secret.get_secret_value(),
        )
    elif settings.federated_token_file:
        options.update(
            client_id=settings.client_id or "",
            tenant_id=settings.tenant_id or "",
            federated_token_file=settings.federated_token_file,
        )
    elif settings.use_azure_cli:
        options["use_azure_cli"] = "true"
    elif settings.client_id:  # a user-assigned managed identity; without it, the system-assigned one
        options["client_id"] = settings.client_id
    return options


def blob_credential(settings: AzureSettings) -> AzureNamedKeyCredential | AzureSasCredential | TokenCredential:
    """The credential for azure-storage-blob clients (files and the Event Hubs checkpoint store)."""
    raise NotImplementedError


def blob_filesystem(location: BlobLocation, settings: AzureSettings) -> AzureBlobFileSystem:
    """An fsspec filesystem on the account's Blob endpoint; it takes full ``abfss://`` paths."""
    options: dict = {"account_name": location.account, "skip_instance_cache": True}
    if settings.storage_use_emulator:
        options["account_host"] = blob_account_url(location.account, settings).split("://", 1)[1]
    if settings.storage_account_key:
        options["account_key"] = settings.storage_account_key.get_secret_value()
    elif settings.storage_sas_token:
        options["sas_token"] = settings.storage_sas_token.get_secret_value()
    else:
        options["credential"] = DefaultAzureCredential()
    return AzureBlobFileSystem(**options)
