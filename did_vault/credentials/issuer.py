"""Issuing credentials and signing presentations (VCDM 2.0 with Data Integrity proofs).

An issuer signs with an ``assertionMethod`` proof made by a key its own DID controls;
a holder signs a presentation with an ``authentication`` proof bound to the
verifier's ``challenge`` and ``domain``. Both return plain JSON objects: the exact
documents to hand over, never re-serialised models.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from did_vault.credentials.model import (
    CREDENTIALS_V2_CONTEXT,
    VERIFIABLE_PRESENTATION_TYPE,
    VerifiableCredential,
    VerifiablePresentation,
)
from did_vault.credentials.proofs import ASSERTION_METHOD, AUTHENTICATION, add_proof
from did_vault.credentials.suites import EDDSA_JCS_2022
from did_vault.errors import HolderMismatchError, IssuerMismatchError
from did_vault.keys import PrivateKey


def issue_credential(
    credential: Mapping[str, Any],
    *,
    key: PrivateKey,
    verification_method: str,
    cryptosuite: str = EDDSA_JCS_2022,
    created: datetime | None = None,
) -> dict[str, Any]:
    """Sign a credential with an ``assertionMethod`` proof (adds to any proofs on it).

    ``verification_method`` is a URL of the issuer's key (``did:…#key``): the part
    before ``#`` must be the issuer.

    Raises:
        MalformedCredentialError: the credential breaks a VCDM 2.0 rule.
        IssuerMismatchError: the verification method is not the issuer's.
        UnsupportedCryptosuiteError, ValueError: as ``create_proof``.
    """
    model = VerifiableCredential.from_json(credential)
    signer = _controller_of(verification_method)
    if model.issuer_id != signer:
        raise IssuerMismatchError(
            "the verification method does not belong to the issuer",
            issuer=model.issuer_id[:256],
            signer=signer[:256],
        )
    return add_proof(
        credential,
        key=key,
        verification_method=verification_method,
        proof_purpose=ASSERTION_METHOD,
        cryptosuite=cryptosuite,
        created=created,
    )


def create_presentation(
    credentials: Sequence[Mapping[str, Any]],
    *,
    holder: str | None = None,
    presentation_id: str | None = None,
    extra_contexts: Sequence[str | Mapping[str, Any]] = (),
    extra_types: Sequence[str] = (),
) -> dict[str, Any]:
    """An unsigned presentation embedding the credentials exactly as held.

    Raises:
        MalformedCredentialError: the result breaks a VCDM 2.0 rule (e.g. a holder
            that is not a URL).
    """
    presentation: dict[str, Any] = {
        "@context": [CREDENTIALS_V2_CONTEXT, *extra_contexts],
        "type": [VERIFIABLE_PRESENTATION_TYPE, *extra_types],
    }
    if presentation_id is not None:
        presentation["id"] = presentation_id
    if holder is not None:
        presentation["holder"] = holder
    if credentials:
        presentation["verifiableCredential"] = [dict(c) for c in credentials]
    VerifiablePresentation.from_json(presentation)
    return presentation


def sign_presentation(
    presentation: Mapping[str, Any],
    *,
    key: PrivateKey,
    verification_method: str,
    challenge: str,
    domain: str,
    cryptosuite: str = EDDSA_JCS_2022,
    created: datetime | None = None,
    expires: datetime | None = None,
) -> dict[str, Any]:
    """Sign a presentation with an ``authentication`` proof bound to challenge + domain.

    Raises:
        MalformedCredentialError: the presentation breaks a VCDM 2.0 rule.
        HolderMismatchError: the presentation names a holder other than the signer.
        UnsupportedCryptosuiteError, ValueError: as ``create_proof``.
    """
    if not challenge or not domain:
        raise ValueError("a presentation proof needs a challenge and a domain")
    model = VerifiablePresentation.from_json(presentation)
    signer = _controller_of(verification_method)
    if model.holder_id is not None and model.holder_id != signer:
        raise HolderMismatchError(
            "the verification method does not belong to the holder",
            holder=model.holder_id[:256],
            signer=signer[:256],
        )
    return add_proof(
        presentation,
        key=key,
        verification_method=verification_method,
        proof_purpose=AUTHENTICATION,
        cryptosuite=cryptosuite,
        created=created,
        expires=expires,
        challenge=challenge,
        domain=domain,
    )


def _controller_of(verification_method: str) -> str:
    """The DID (or URL) a verification method URL ``…#fragment`` belongs to."""
    if not isinstance(verification_method, str) or "#" not in verification_method:
        raise ValueError("a verification method is a URL with a '#fragment'")
    return verification_method.partition("#")[0]
