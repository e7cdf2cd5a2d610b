"""Alembic migrations of the registry database (run by ``registry db upgrade``)."""
