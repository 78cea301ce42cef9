"""Landing → Bronze → Silver → Gold facts and customers, by day, with the data-quality checks."""
