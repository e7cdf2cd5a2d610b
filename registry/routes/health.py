"""Liveness, readiness and metrics: ``/healthz``, ``/readyz``, ``/metrics``."""

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from registry import migrations
from registry.deps import EngineDep, MetricsDep
from registry.errors import DatabaseNotMigratedError, DatabaseUnavailableError
from registry.metrics import CONTENT_TYPE
from registry.problems import problem_responses

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    revision: str


@router.get(
    "/healthz",
    response_model=Health,
    responses=problem_responses(validation=False),
    summary="The process is alive",
)
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses=problem_responses(
        DatabaseUnavailableError, DatabaseNotMigratedError, validation=False
    ),
    summary="The database is reachable and migrated to this code's head",
)
def readyz(engine: EngineDep) -> Readiness:
    """503 ``db.unreachable`` or ``db.not-migrated`` until ``registry db upgrade``."""
    try:
        revision = migrations.current_revision(engine)
    except SQLAlchemyError as exc:
        raise DatabaseUnavailableError("the database cannot be reached") from exc
    if revision != migrations.head_revision():
        raise DatabaseNotMigratedError(
            "the database is not at the head revision; run 'registry db upgrade'",
            revision=revision or "none",
        )
    return Readiness(status="ready", revision=revision)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {CONTENT_TYPE.split(";")[0]: {}}},
        **problem_responses(validation=False),
    },
    summary="Prometheus metrics (text exposition format)",
)
def metrics(metrics: MetricsDep) -> PlainTextResponse:
    return PlainTextResponse(metrics.render(), media_type=CONTENT_TYPE)
