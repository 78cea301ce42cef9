"""Point-in-time customer features and the purchase label, by as-of date."""
