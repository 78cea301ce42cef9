"""Every table of the lake, named once: the Dagster asset key and the Delta table path are the same words.

Plain strings, so the library and the scoring service can name tables without importing Dagster;
``ecom_assets.defs.tables.asset_key`` turns one into a Dagster ``AssetKey``.
"""

BRONZE_EVENTS = "bronze/events"
SILVER_EVENTS = "silver/events"
SILVER_EVENTS_REJECTED = "silver/events_rejected"
FACT_EVENTS = "gold/fact_events"
DIM_CUSTOMER = "gold/dim_customer"
CUSTOMER_DAILY_ACTIVITY = "gold/customer_daily_activity"
CUSTOMER_DAILY_FEATURES = "gold/customer_daily_features"
LABEL_PURCHASE_NEXT_7D = "gold/label_purchase_next_7d"
PROPENSITY_MODEL = "ml/propensity_model"
CHAMPION = "ml/champion"
BATCH_SCORES = "ml/batch_scores"
PREDICTION_LOG = "monitoring/prediction_log"
DRIFT_REPORT = "monitoring/drift_report"
MODEL_PERFORMANCE = "monitoring/model_performance"
