"""Storage: the lake (Delta tables and files) on local disk or Azure, with no Dagster in it."""

from ecom_assets.storage.lake import Lake, TableNotFoundError

__all__ = ["Lake", "TableNotFoundError"]
