"""Unsigned registry credentials around the standard schema's subjects.

Every item in a wallet is a subject in its own right: its own DID (a did:key the
wallet mints, controlled by the owner until a registry assigns a registry-hosted
one) named by a self-issued ItemIdentityCredential. The builders here return the
unsigned VCDM 2.0 document; sign it with ``did_vault.issue_credential``.
"""

from datetime import datetime
from typing import Any

from did_vault.contexts import REGISTRY_V1_URL
from did_vault.credentials.model import CREDENTIALS_V2_CONTEXT
from did_vault.items.model import (
    Item,
    Ownership,
    StolenReport,
    TransferAcceptance,
    TransferOffer,
    format_date_time,
)
from did_vault.items.schema import VERIFIABLE_CREDENTIAL_TYPE, validate_credential

ITEM_IDENTITY_CREDENTIAL = "ItemIdentityCredential"
OWNERSHIP_CREDENTIAL = "OwnershipCredential"
STOLEN_REPORT_CREDENTIAL = "StolenReportCredential"
TRANSFER_OFFER_CREDENTIAL = "TransferOfferCredential"
TRANSFER_ACCEPTANCE_CREDENTIAL = "TransferAcceptanceCredential"

Subject = Item | Ownership | StolenReport | TransferOffer | TransferAcceptance

_TYPE_BY_SUBJECT: dict[type, str] = {
    Item: ITEM_IDENTITY_CREDENTIAL,
    Ownership: OWNERSHIP_CREDENTIAL,
    StolenReport: STOLEN_REPORT_CREDENTIAL,
    TransferOffer: TRANSFER_OFFER_CREDENTIAL,
    TransferAcceptance: TRANSFER_ACCEPTANCE_CREDENTIAL,
}


def build_credential(
    subject: Subject,
    *,
    issuer: str,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    credential_id: str | None = None,
) -> dict[str, Any]:
    """The unsigned credential whose ``credentialSubject`` is ``subject``.

    ``@context`` is the credentials v2 context and the registry's
    (``REGISTRY_V1_URL``); ``type`` is ``VerifiableCredential`` and the type for
    the subject (e.g. ``OwnershipCredential``). ``credential_id`` (a URL such as
    ``urn:uuid:…``) is the caller's, so the call stays deterministic.

    Raises:
        SchemaViolationError: the result breaks the standard schema (e.g. an issuer
            that is not a URL is caught by ``issue_credential``, not here).
        ValueError: a naive ``valid_from`` or ``valid_until``.
    """
    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V2_CONTEXT, REGISTRY_V1_URL],
        "type": [VERIFIABLE_CREDENTIAL_TYPE, _TYPE_BY_SUBJECT[type(subject)]],
    }
    if credential_id is not None:
        credential["id"] = credential_id
    credential["issuer"] = issuer
    if valid_from is not None:
        credential["validFrom"] = format_date_time(valid_from)
    if valid_until is not None:
        credential["validUntil"] = format_date_time(valid_until)
    credential["credentialSubject"] = subject.to_json()
    validate_credential(credential)
    return credential


def build_item_identity_credential(
    item: Item,
    *,
    owner: str,
    valid_from: datetime | None = None,
    credential_id: str | None = None,
) -> dict[str, Any]:
    """The owner's self-issued ItemIdentityCredential naming ``item.id`` (the
    item's DID) as the subject; ``owner`` (a DID) is the issuer.

    Raises:
        SchemaViolationError: as :func:`build_credential`.
        ValueError: a naive ``valid_from``.
    """
    return build_credential(
        item, issuer=owner, valid_from=valid_from, credential_id=credential_id
    )
