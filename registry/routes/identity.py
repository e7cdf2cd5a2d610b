"""The registry's did:web DID document and the DID documents of items (did:web)."""

from typing import Annotated, Any

from fastapi import APIRouter, Path

from registry import crud
from registry.deps import IdentityDep, SessionDep
from registry.errors import NotFoundError
from registry.models import RegisteredItem
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
def item_did_document(
    item_id: ItemId, session: SessionDep, identity: IdentityDep
) -> dict[str, Any]:
    """The registry and the item's current owner are its ``controller``: a transfer
    changes the controller in the same transaction that moves the ownership."""
    db_item = session.get(RegisteredItem, item_id)
    if db_item is None:
        raise NotFoundError("no such item")
    current = crud.current_ownership(session=session, item_id=item_id)
    owners = [current.owner_did] if current is not None else []
    return identity.item_document(item_id, controllers=owners)
