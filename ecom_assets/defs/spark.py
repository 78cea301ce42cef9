"""The Spark engine as a Dagster resource: dagster-pyspark's lazy session, on Spark Connect.

The session is created on first use, on ``ECOM_SPARK_REMOTE`` or a local Sail server started for the
process (``ecom_assets.spark_session``), so a run on the polars engine never starts or reaches Spark.
"""

from typing import Any

import dagster as dg
from dagster_pyspark import LazyPySparkResource
from dagster_pyspark.resources import spark_session_from_config

from ecom_assets.defs.resources import LakeResource
from ecom_assets.spark_session import spark_remote


class SparkEngineResource(LazyPySparkResource):
    """A Spark Connect session (``spark.remote`` from the settings unless set) and the lake it writes to."""

    lake_resource: dg.ResourceDependency[LakeResource]

    def _init_session(self) -> None:
        if self._spark_session is None:
            config: dict[str, Any] = {"spark.remote": spark_remote(), **self.spark_config}
            self._spark_session = spark_session_from_config(config)
