"""Storage: the lake (Delta tables and files) and the Dagster IO manager on top of it."""

from ecom_assets.resources.io_manager import DeltaLakeIOManager
from ecom_assets.resources.lake import Lake, LakeResource


def build_resources(lake_uri: str | None = None) -> dict:
    """The resources of the code location; the lake URI alone switches between local disk and Azure."""
    lake = LakeResource() if lake_uri is None else LakeResource(uri=lake_uri)
    return {"lake": lake, "io_manager": DeltaLakeIOManager(lake=lake)}


__all__ = ["DeltaLakeIOManager", "Lake", "LakeResource", "build_resources"]
