"""Where the Spark engine runs: the Spark Connect endpoint of ``ECOM_SPARK_REMOTE``, or a local Sail server.

Sail (``pysail``) is a Spark Connect server written in Rust: with no remote configured, the first caller
starts one inside this process on a free loopback port, and it stops when the process exits. So the
Spark path needs no JVM and no cluster on a laptop or in CI; production points ``ECOM_SPARK_REMOTE`` at a
Spark 4 cluster, a Spark Connect server on Kubernetes or Databricks.
"""

from __future__ import annotations

import atexit
import os
from functools import lru_cache
from typing import TYPE_CHECKING

from ecom_assets.settings import get_settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


# Event dates are UTC dates in both engines, whatever the server's or the driver's time zone.
SESSION_CONFIG: dict[str, bool | float | int | str | None] = {"spark.sql.session.timeZone": "UTC"}


@lru_cache(maxsize=1)
def local_sail_remote() -> str:
    """Start Sail in this process once and return its ``sc://`` URL; it stops at interpreter exit."""
    try:
        from pysail.spark import SparkConnectServer
    except ImportError as error:
        raise RuntimeError(
            "ECOM_ENGINE=spark without ECOM_SPARK_REMOTE needs a local Sail server: "
            "install the spark extra (pip install -e '.[spark]') or set ECOM_SPARK_REMOTE=sc://host:port"
        ) from error
    # Sail logs every session at INFO to stderr; warnings are what an operator needs.
    os.environ.setdefault("RUST_LOG", "warn")
    server = SparkConnectServer(ip="127.0.0.1", port=0)
    server.start(background=True)
    atexit.register(server.stop)
    host, port = server.listening_address
    return f"sc://{host}:{port}"


def spark_remote() -> str:
    """The Spark Connect URL the Spark engine uses: ``ECOM_SPARK_REMOTE``, else a local Sail server."""
    return get_settings().spark_remote or local_sail_remote()


def spark_session(remote: str | None = None) -> SparkSession:
    """A Spark Connect session on ``remote`` (default :func:`spark_remote`), for code outside Dagster."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.remote(remote or spark_remote())
    return builder.config(map=SESSION_CONFIG).getOrCreate()
