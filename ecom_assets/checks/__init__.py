"""Data-quality asset checks; blocking ones stop downstream assets in the same run."""
