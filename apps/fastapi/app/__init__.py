"""Sample FastAPI service: a small notes API with the api-stack health and metrics contract."""
