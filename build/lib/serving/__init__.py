"""The real-time scoring service: a FastAPI app that always serves the promoted champion model."""
