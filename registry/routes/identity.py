"""The registry's did:web DID document and the DID documents of items (did:web)."""

from typing import Annotated, Any

from fastapi import APIRouter, Path

from registry.deps import IdentityDep
from registry.errors import NotFoundError
from registry.problems import problem_responses

router = APIRouter(tags=["identity"])

DID_MEDIA_TYPE = "application/did+json"
ItemId = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,128}$")]


@router.get(
    "/.well-known/did.json",
    responses=problem_responses(validation=False),
    summary="The registry's DID document (did:web)",
)
def registry_did_document(identity: IdentityDep) -> dict[str, Any]:
    return identity.document.to_json()


@router.get(
    "/items/{item_id}/did.json",
    responses=problem_responses(NotFoundError),
    summary="An item's DID document (did:web:<host>:items:<id>)",
)
def item_did_document(item_id: ItemId) -> dict[str, Any]:
    """Answers ``item.not-found`` until items are registered (issue 7, item 6)."""
    raise NotFoundError("no such item")
