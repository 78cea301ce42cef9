"""The embedded Dagster instance's storage, named in the project's ``dagster.yaml``. Dagster-side only:
the library and the scoring service never import it."""
