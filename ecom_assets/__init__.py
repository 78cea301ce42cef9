"""E-commerce purchase propensity: one Dagster asset graph from raw events to a served model.

The package is a Dagster-free core (``storage``, ``events``, ``transforms``, ``ml``, ``keys``,
``settings``) that the scoring service imports too; ``defs`` is what Dagster loads, ``operations`` and
``cli`` are the operator workflows on top of both, ``instance`` the storage the embedded Dagster instance
names in ``dagster.yaml``.
"""
