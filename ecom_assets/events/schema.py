"""The web/app event of ``shared/CONTRACT.md`` section 1, written down once for every reader and writer."""

import polars as pl

EVENT_TYPES = (
    "page_view",
    "product_view",
    "search",
    "add_to_cart",
    "remove_from_cart",
    "begin_checkout",
    "purchase",
    "login",
)
PRODUCT_EVENTS = frozenset({"product_view", "add_to_cart", "remove_from_cart", "purchase"})
QUANTITY_EVENTS = frozenset({"add_to_cart", "remove_from_cart", "purchase"})
CHANNELS = ("web", "app")
# Integers are Int32 columns: a larger one is an invalid value, not a crash.
INT32_MAX = 2**31 - 1
REQUIRED_FIELDS = ("event_id", "event_type", "event_ts", "session_id", "anonymous_id")

# Optional string fields of the contract; every one may be absent or null.
OPTIONAL_STRING_FIELDS = (
    "customer_id",
    "product_id",
    "category",
    "brand",
    "order_id",
    "currency",
    "channel",
    "device",
    "country",
)

# Silver: the typed event, plus where it came from (for audit and deterministic dedup).
SILVER_SCHEMA = pl.Schema(
    {
        "event_id": pl.String(),
        "event_type": pl.String(),
        "event_ts": pl.Datetime("us", "UTC"),
        "event_date": pl.Date(),
        "session_id": pl.String(),
        "anonymous_id": pl.String(),
        "customer_id": pl.String(),
        "customer_id_backfilled": pl.Boolean(),
        "product_id": pl.String(),
        "category": pl.String(),
        "brand": pl.String(),
        "price": pl.Float64(),
        "quantity": pl.Int32(),
        "order_id": pl.String(),
        "currency": pl.String(),
        "channel": pl.String(),
        "device": pl.String(),
        "country": pl.String(),
        "schema_version": pl.Int32(),
        "arrival_date": pl.Date(),
        "source_file": pl.String(),
        "line_number": pl.Int64(),
    }
)

BRONZE_SCHEMA = pl.Schema(
    {
        "raw": pl.String(),
        "arrival_date": pl.Date(),
        "source_file": pl.String(),
        "line_number": pl.Int64(),
        "landed_at": pl.Datetime("us", "UTC"),
        # Set on the one row that stands for a landing file that could not be read (its raw is null,
        # its line_number 0): why, so that Silver rejects it as ``unreadable_file``.
        "read_error": pl.String(),
    }
)

REJECTED_SCHEMA = pl.Schema(
    {
        "raw": pl.String(),
        "reason": pl.String(),
        "reason_detail": pl.String(),
        "event_id": pl.String(),
        "arrival_date": pl.Date(),
        "source_file": pl.String(),
        "line_number": pl.Int64(),
    }
)
