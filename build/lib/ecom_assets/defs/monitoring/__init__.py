"""Drift of features and predictions against the champion, the online prediction log, retraining."""
