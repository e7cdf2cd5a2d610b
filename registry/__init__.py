"""registry: the ownership registry service (FastAPI + SQLModel)."""
