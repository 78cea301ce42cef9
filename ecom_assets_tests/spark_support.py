"""The Spark engine in tests: one Spark Connect session per test process, and frame comparison.

The session is on ``ECOM_SPARK_REMOTE`` when set (CI's Apache Spark with Delta), else on a local Sail
server started once per process (it stops at exit). Tests skip with the reason when the ``spark`` extra
is not installed.
"""

import os
import sys

import polars as pl
import pytest
from polars.testing import assert_frame_equal

# pyspark's Connect client takes a __main__ with neither spec nor file for its own doctest run, and then
# exits the process when no Spark installation is found; pytest-xdist workers have such a __main__. The
# file must exist: worker processes (the Bronze parse pool) run a __main__ file again, here an empty one.
_main = sys.modules["__main__"]
if _main.__spec__ is None and not hasattr(_main, "__file__"):
    _main.__file__ = os.devnull


@pytest.fixture(scope="session")
def spark():
    pytest.importorskip("pyspark.sql.connect", reason="the spark extra is not installed")
    from ecom_assets.spark_session import local_sail_remote, spark_session

    session = spark_session(os.environ.get("ECOM_SPARK_REMOTE") or local_sail_remote())
    yield session
    session.stop()


def on_sail() -> bool:
    return not os.environ.get("ECOM_SPARK_REMOTE")


def assert_same_table(from_spark: pl.DataFrame, from_polars: pl.DataFrame, keys: list[str]) -> None:
    """Equal after casting Spark's result to the polars schema and sorting both by ``keys``."""
    assert from_spark.columns == from_polars.columns
    assert from_spark.height == from_polars.height
    cast = from_spark.cast(dict(from_polars.schema)).sort(keys)  # type: ignore[arg-type]
    # Sums over the same values in another order may differ in the last bits.
    assert_frame_equal(cast, from_polars.sort(keys), check_exact=False, rel_tol=1e-12)


# pyspark is imported in the functions: this module is loaded by conftest, with or without the spark extra.
def from_polars(spark, frame: pl.DataFrame):
    """A polars frame (small: sent through the Spark Connect channel) as a Spark DataFrame of its schema."""
    from pyspark.sql import types as T

    from ecom_assets.storage.spark_tables import spark_type

    spark_schema = T.StructType([T.StructField(n, spark_type(t)) for n, t in frame.schema.items()])
    return spark.createDataFrame(frame.to_arrow(), schema=spark_schema)


def to_polars(frame) -> pl.DataFrame:
    """Collect a Spark DataFrame to the test as polars."""
    return pl.from_arrow(frame.toArrow())  # type: ignore[return-value]
