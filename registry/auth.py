"""DID authentication: single-use challenges and short-lived access tokens.

1. ``issue_challenge``: a random challenge for a DID, bound to the registry's
   audience (its own DID), stored by SHA-256 with a short TTL so that every worker
   sees it.
2. The client signs a presentation (``holder`` its DID) with a Data Integrity proof
   whose ``proofPurpose`` is ``authentication``, ``challenge`` the challenge and
   ``domain`` the audience (VC Data Integrity 1.0 §2.1; did_vault's
   ``sign_presentation``).
3. ``exchange_challenge``: the registry verifies it with did_vault, consumes the
   challenge, and returns an access token: a JWT (RFC 7519, ``typ`` ``at+jwt`` per
   RFC 9068) signed by the registry's key (EdDSA, RFC 8037; ES256 for a P-256 key),
   bound to the DID (``sub``) and the audience (``aud``).

``verify_access_token`` checks a token per RFC 8725: the one expected ``alg`` and
``typ``, the registry's ``kid``, issuer, audience, and expiry against the clock.
"""

import base64
import binascii
import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from did_vault import (
    DID,
    DIDDocumentResolver,
    DidVaultError,
    InvalidChallengeError,
    InvalidDomainError,
    MalformedInputError,
    ProofPurposeMismatchError,
    ProofRelationshipError,
    ResolutionError,
    UnsupportedError,
    VerificationError,
    VerificationMethodNotFoundError,
    verify_presentation,
)
from registry import crud
from registry.errors import (
    AudienceInvalidError,
    AuthProofInvalidError,
    ChallengeExpiredError,
    ChallengeReplayedError,
    ChallengeUnknownError,
    RelationshipInvalidError,
    TokenExpiredError,
    TokenInvalidError,
)
from registry.identity import RegistryIdentity

TOKEN_TYPE = "at+jwt"
CHALLENGE_BYTES = 32
MAX_TOKEN_LENGTH = 4096

TokenSource = Callable[[int], str]
"""Returns a URL-safe random string from n random bytes (``secrets.token_urlsafe``)."""


@dataclass(frozen=True, slots=True)
class IssuedChallenge:
    challenge: str
    audience: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Principal:
    """Who an access token speaks for."""

    did: str
    audience: str
    expires_at: datetime
    token_id: str


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    if not text or any(c not in _B64URL_ALPHABET for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL_ALPHABET = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)


def challenge_hash(challenge: str) -> str:
    return hashlib.sha256(challenge.encode("utf-8")).hexdigest()


def _check_did(did: str) -> str:
    """Raises InvalidDIDError for a string that is not a DID."""
    return str(DID.parse(did))


def issue_challenge(
    *,
    session: Session,
    did: str,
    identity: RegistryIdentity,
    now: datetime,
    ttl: timedelta,
    token_source: TokenSource = secrets.token_urlsafe,
) -> IssuedChallenge:
    """Store a new single-use challenge for ``did`` (the caller commits).

    Raises:
        InvalidDIDError: ``did`` is not a DID.
    """
    subject = _check_did(did)
    crud.delete_expired_challenges(session=session, before=now)
    challenge = token_source(CHALLENGE_BYTES)
    expires_at = now + ttl
    crud.create_challenge(
        session=session,
        challenge_hash=challenge_hash(challenge),
        did=subject,
        audience=identity.did,
        now=now,
        expires_at=expires_at,
    )
    return IssuedChallenge(
        challenge=challenge, audience=identity.did, expires_at=expires_at
    )


def exchange_challenge(
    *,
    session: Session,
    challenge: str,
    presentation: Mapping[str, Any],
    identity: RegistryIdentity,
    resolver: DIDDocumentResolver,
    now: datetime,
    token_ttl: timedelta,
    token_source: TokenSource = secrets.token_urlsafe,
) -> tuple[str, Principal]:
    """Verify a signed answer to a challenge and return an access token for its DID.

    Nothing is written unless every check passes; the challenge is then consumed
    in the caller's transaction.

    Raises:
        ChallengeUnknownError, ChallengeExpiredError, ChallengeReplayedError: the
            challenge is not one this registry handed out, is too old, or was used.
        AudienceInvalidError: the proof's ``domain`` is not this registry.
        RelationshipInvalidError: the key is not under the DID's ``authentication``.
        AuthProofInvalidError: any other reason the proof does not verify, or a
            signer other than the DID the challenge was issued to.
        ResolutionError: the DID could not be resolved (the proof may be fine).
    """
    db_challenge = crud.get_challenge(
        session=session, challenge_hash=challenge_hash(challenge)
    )
    if db_challenge is None:
        raise ChallengeUnknownError("no such challenge")
    if db_challenge.used_at is not None:
        raise ChallengeReplayedError("the challenge was already used")
    if db_challenge.expires_at <= now:
        raise ChallengeExpiredError("the challenge expired")
    signer = _verify_answer(
        presentation,
        challenge=challenge,
        audience=db_challenge.audience,
        resolver=resolver,
        now=now,
    )
    if signer != db_challenge.did:
        raise AuthProofInvalidError(
            "the presentation is not signed by the DID the challenge was issued to"
        )
    assert db_challenge.id is not None
    if not crud.consume_challenge(
        session=session, challenge_id=db_challenge.id, now=now
    ):
        raise ChallengeReplayedError("the challenge was already used")
    principal = Principal(
        did=signer,
        audience=identity.did,
        expires_at=now + token_ttl,
        token_id=token_source(16),
    )
    return create_access_token(principal, identity=identity, now=now), principal


def _verify_answer(
    presentation: Mapping[str, Any],
    *,
    challenge: str,
    audience: str,
    resolver: DIDDocumentResolver,
    now: datetime,
) -> str:
    """The DID that signed the presentation for this challenge and audience."""
    try:
        result = verify_presentation(
            presentation,
            resolver=resolver,
            challenge=challenge,
            domain=audience,
            now=now,
        )
    except InvalidDomainError as exc:
        raise AudienceInvalidError("the proof is for another audience") from exc
    except InvalidChallengeError as exc:
        raise AuthProofInvalidError("the proof answers another challenge") from exc
    except (
        ProofRelationshipError,
        ProofPurposeMismatchError,
        VerificationMethodNotFoundError,
    ) as exc:
        raise RelationshipInvalidError(
            "the key is not listed under the DID's authentication relationship"
        ) from exc
    except ResolutionError:
        raise
    except (VerificationError, MalformedInputError, UnsupportedError) as exc:
        raise AuthProofInvalidError(
            "the authentication proof does not verify", reason=exc.code
        ) from exc
    if result.credentials:
        raise AuthProofInvalidError(
            "an authentication presentation holds no credentials"
        )
    signers = {proof.controller for proof in result.proofs}
    if len(signers) != 1:
        raise AuthProofInvalidError("sign the challenge with exactly one DID")
    return signers.pop()


def create_access_token(
    principal: Principal, *, identity: RegistryIdentity, now: datetime
) -> str:
    """A compact JWS access token signed with the registry's key."""
    header = {
        "alg": identity.key.algorithm.jws_algorithm,
        "typ": TOKEN_TYPE,
        "kid": identity.verification_method,
    }
    payload = {
        "iss": identity.did,
        "sub": principal.did,
        "aud": principal.audience,
        "iat": int(now.timestamp()),
        "exp": int(principal.expires_at.timestamp()),
        "jti": principal.token_id,
    }
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode("utf-8"))
        for part in (header, payload)
    )
    signature = identity.key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{_b64url(signature)}"


def verify_access_token(
    token: str, *, identity: RegistryIdentity, now: datetime
) -> Principal:
    """The principal of a valid access token.

    Raises:
        TokenInvalidError: not a token this registry signed for itself.
        TokenExpiredError: past its ``exp``.
    """
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise TokenInvalidError("not a compact JWS")
    encoded_header, encoded_payload, encoded_signature = token.split(".")
    try:
        header = json.loads(_b64url_decode(encoded_header))
        payload = json.loads(_b64url_decode(encoded_payload))
        signature = _b64url_decode(encoded_signature)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise TokenInvalidError("the token is not base64url JSON") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise TokenInvalidError("the token header and payload must be objects")
    if (
        header.get("alg") != identity.key.algorithm.jws_algorithm
        or header.get("typ") != TOKEN_TYPE
        or header.get("kid") != identity.verification_method
        or set(header) - {"alg", "typ", "kid"}
    ):
        raise TokenInvalidError("the token header is not this registry's")
    try:
        identity.key.public_key.verify(
            signature, f"{encoded_header}.{encoded_payload}".encode("ascii")
        )
    except DidVaultError as exc:
        raise TokenInvalidError("the token signature does not verify") from exc
    subject, audience, expires = (
        payload.get("sub"),
        payload.get("aud"),
        payload.get("exp"),
    )
    if payload.get("iss") != identity.did or audience != identity.did:
        raise TokenInvalidError("the token is for another issuer or audience")
    if not isinstance(subject, str) or not isinstance(expires, int):
        raise TokenInvalidError("the token lacks a subject or expiry")
    expires_at = datetime.fromtimestamp(expires, tz=now.tzinfo)
    if expires_at <= now:
        raise TokenExpiredError("the access token expired")
    return Principal(
        did=subject,
        audience=audience,
        expires_at=expires_at,
        token_id=str(payload.get("jti", "")),
    )


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (RFC 6750 §2.1).

    Raises:
        TokenInvalidError: an Authorization header of another scheme.
    """
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenInvalidError("use an 'Authorization: Bearer <token>' header")
    return token.strip()
