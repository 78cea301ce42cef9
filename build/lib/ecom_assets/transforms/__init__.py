"""Pure functions over polars DataFrames: the logic of every layer, testable without Dagster."""
