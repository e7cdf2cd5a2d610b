"""The transparency log, public and read-only: ``/v1/log`` (issue 9).

Checkpoints are C2SP signed notes (``text/plain``); proofs and leaves are JSON with
standard base64 hashes. Nothing here reveals an event: leaves are salted
commitments. ``GET /v1/log/checkpoint`` first signs the tree if it grew since the
last checkpoint (events logged without a receipt, e.g. trust-list changes), so an
auditor always sees the whole log. Checkpoints carry the stored cosignatures of the
witnesses the registry trusts, as extra signature lines; a witness hands its
cosigned note in with ``POST /v1/log/cosignatures`` (``registry.log_witnesses``).
"""

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse

from did_vault import (
    CheckpointSignatureError,
    LogRangeError,
    MalformedCheckpointError,
    UnsupportedAlgorithmError,
    UntrustedCheckpointError,
)
from registry import log, log_witnesses
from registry.deps import ClockDep, IdentityDep, SessionDep
from registry.errors import (
    LogCheckpointNotFoundError,
    LogCheckpointUnknownError,
    LogCorruptError,
    RequestTooLargeError,
    WitnessTimeInvalidError,
    WitnessUntrustedError,
)
from registry.log_models import (
    ConsistencyProofPublic,
    CosignaturesPublic,
    InclusionProofPublic,
    LeafPublic,
    LeavesPublic,
)
from registry.problems import problem_responses
from registry.routes import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/log", tags=["log"])

CHECKPOINT_MEDIA_TYPE = "text/plain; charset=utf-8"
Size = Annotated[int, Query(ge=0, le=2**63 - 1)]
_CHECKPOINT_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    responses={
        **_CHECKPOINT_RESPONSE,
        **problem_responses(LogCheckpointNotFoundError, LogCorruptError),
    },
    summary="The latest signed checkpoint (C2SP tlog-checkpoint signed note)",
)
def latest_checkpoint(
    session: SessionDep, identity: IdentityDep, clock: ClockDep
) -> PlainTextResponse:
    if log.can_sign(identity) and log.log_size(session) > 0:
        note = log.checkpoint(session, identity=identity, now=clock())
        session.commit()
    else:
        note = log.checkpoint_note(session)
    note = log_witnesses.cosigned(session, note)
    return PlainTextResponse(note, media_type=CHECKPOINT_MEDIA_TYPE)


@router.get(
    "/checkpoint/{tree_size}",
    response_class=PlainTextResponse,
    responses={
        **_CHECKPOINT_RESPONSE,
        **problem_responses(LogCheckpointNotFoundError, LogCorruptError),
    },
    summary="The signed checkpoint of one tree size",
)
def checkpoint_of_size(
    tree_size: Annotated[int, Path(ge=0, le=2**63 - 1)], session: SessionDep
) -> PlainTextResponse:
    note = log_witnesses.cosigned(session, log.checkpoint_note(session, tree_size))
    return PlainTextResponse(note, media_type=CHECKPOINT_MEDIA_TYPE)


async def _note_body(request: Request) -> str:
    """The request body, a signed note: at most ``MAX_NOTE_BYTES`` of UTF-8."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > log_witnesses.MAX_NOTE_BYTES:
            raise RequestTooLargeError(
                f"a cosigned note is at most {log_witnesses.MAX_NOTE_BYTES} bytes",
                limit=log_witnesses.MAX_NOTE_BYTES,
            )
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedCheckpointError("a note is UTF-8") from exc


@router.post(
    "/cosignatures",
    response_model=CosignaturesPublic,
    responses=problem_responses(
        MalformedCheckpointError,
        RequestTooLargeError,
        LogCheckpointNotFoundError,
        UntrustedCheckpointError,
        CheckpointSignatureError,
        LogCheckpointUnknownError,
        WitnessUntrustedError,
        WitnessTimeInvalidError,
        UnsupportedAlgorithmError,
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A checkpoint note of this registry with witness "
            "cosignature/v1 lines (C2SP signed-note), at most "
            f"{log_witnesses.MAX_NOTE_BYTES} bytes",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
    summary="Hand in witness cosignatures of a checkpoint (public; they verify "
    "themselves)",
)
def submit_cosignatures(
    note: Annotated[str, Depends(_note_body)],
    session: SessionDep,
    identity: IdentityDep,
    clock: ClockDep,
) -> CosignaturesPublic:
    stored = log_witnesses.store_cosignatures(
        session, note, identity=identity, now=clock()
    )
    session.commit()
    return stored


@router.get(
    "/proof/inclusion",
    response_model=InclusionProofPublic,
    responses=problem_responses(LogRangeError, LogCorruptError),
    summary="RFC 9162 inclusion proof of a leaf in a tree size",
)
def inclusion_proof(
    leaf_index: Size, tree_size: Size, session: SessionDep
) -> InclusionProofPublic:
    proof = log.inclusion(session, leaf_index=leaf_index, tree_size=tree_size)
    (leaf,) = log.leaves(session, start=leaf_index, end=leaf_index + 1)
    return InclusionProofPublic(
        leaf_index=leaf_index,
        tree_size=tree_size,
        leaf_hash=_b64(bytes(leaf.leaf_hash)),
        proof=[_b64(h) for h in proof],
    )


@router.get(
    "/proof/consistency",
    response_model=ConsistencyProofPublic,
    responses=problem_responses(LogRangeError, LogCorruptError),
    summary="RFC 9162 consistency proof between two tree sizes",
)
def consistency_proof(
    old_size: Size, new_size: Size, session: SessionDep
) -> ConsistencyProofPublic:
    proof = log.consistency(session, old_size=old_size, new_size=new_size)
    return ConsistencyProofPublic(
        old_size=old_size, new_size=new_size, proof=[_b64(h) for h in proof]
    )


@router.get(
    "/leaves",
    response_model=LeavesPublic,
    responses=problem_responses(LogRangeError, LogCorruptError),
    summary=f"Leaves [start, end), at most {log.MAX_LEAVES_PER_PAGE}",
)
def leaves(start: Size, end: Size, session: SessionDep) -> LeavesPublic:
    rows = log.leaves(session, start=start, end=end)
    return LeavesPublic(
        start=start,
        end=end,
        data=[
            LeafPublic(
                index=row.index,
                leaf_hash=_b64(bytes(row.leaf_hash)),
                leaf_data=_b64(bytes(row.leaf_data)),
            )
            for row in rows
        ],
    )
