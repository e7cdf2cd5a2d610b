"""did:jwk method (https://github.com/quartzjer/did-jwk/blob/main/spec.md).

``did:jwk:<base64url(UTF-8 JSON of a public JWK)>``. The document has one
``JsonWebKey2020`` verification method ``#0`` with the JWK as written (custom members
kept). A JWK with ``"use": "sig"`` is not listed under keyAgreement; one with
``"use": "enc"`` is listed only there. A JWK with private material is refused.
"""

import json
from typing import Any

from did_vault.dids.did import DID
from did_vault.dids.document import (
    DID_CONTEXT_V1,
    JSON_WEB_KEY_2020_TYPE,
    JWS_2020_CONTEXT_V1,
    DIDDocument,
    VerificationMethod,
)
from did_vault.errors import (
    InvalidDIDError,
    InvalidEncodingError,
    InvalidKeyError,
    UnsupportedDIDMethodError,
)
from did_vault.keys import PublicKey
from did_vault.primitives.b64 import b64url_decode, b64url_encode

METHOD = "jwk"
VERIFICATION_METHOD_FRAGMENT = "0"
# RFC 7517/7518/8037 private members: EC/OKP "d", RSA "d p q dp dq qi oth", oct "k"
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def create_did_jwk(public_key: PublicKey) -> DID:
    """The did:jwk DID of a public key.

    The JWK is serialized compactly with members in RFC 7638 order (as in the spec's
    P-256 example), so one key always gives the same DID here.
    """
    text = json.dumps(public_key.to_jwk(), separators=(",", ":"), sort_keys=True)
    return DID(METHOD, b64url_encode(text.encode("utf-8")))


def did_jwk_jwk(did: DID | str) -> dict[str, Any]:
    """The public JWK a did:jwk DID encodes, checked to hold a supported public key.

    Raises:
        InvalidDIDError: not a DID, or the identifier is not base64url JSON object.
        UnsupportedDIDMethodError: a DID of another method.
        InvalidKeyError: private key material, or bad key bytes.
        UnsupportedAlgorithmError: a key type other than Ed25519 or P-256.
    """
    parsed = DID.parse(did) if isinstance(did, str) else did
    if parsed.method != METHOD:
        raise UnsupportedDIDMethodError(
            "not a did:jwk DID", method=parsed.method, expected=METHOD
        )
    try:
        raw = b64url_decode(parsed.method_specific_id)
        jwk = json.loads(raw.decode("utf-8"))
    except (InvalidEncodingError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidDIDError("a did:jwk identifier is base64url UTF-8 JSON") from exc
    if not isinstance(jwk, dict):
        raise InvalidDIDError("a did:jwk identifier encodes a JSON object")
    if _PRIVATE_MEMBERS & jwk.keys():
        raise InvalidKeyError("did:jwk must not hold private key material")
    try:
        PublicKey.from_jwk(jwk)
    except InvalidEncodingError as exc:
        raise InvalidKeyError("the JWK's key members are not base64url") from exc
    return jwk


def resolve_did_jwk(did: DID | str) -> DIDDocument:
    """Expand a did:jwk DID into its DID document.

    Raises:
        InvalidDIDError, UnsupportedDIDMethodError, InvalidKeyError,
        UnsupportedAlgorithmError: as ``did_jwk_jwk``.
    """
    jwk = did_jwk_jwk(did)
    identifier = str(DID.parse(did) if isinstance(did, str) else did)
    method = VerificationMethod(
        id=f"{identifier}#{VERIFICATION_METHOD_FRAGMENT}",
        type=JSON_WEB_KEY_2020_TYPE,
        controller=identifier,
        public_key_jwk=jwk,
    )
    reference: list[str | VerificationMethod] = [method.id]
    use = jwk.get("use")
    signing = None if use == "enc" else reference
    return DIDDocument(
        context=[DID_CONTEXT_V1, JWS_2020_CONTEXT_V1],
        id=identifier,
        verification_method=[method],
        assertion_method=signing,
        authentication=signing,
        capability_invocation=signing,
        capability_delegation=signing,
        key_agreement=None if use == "sig" else reference,
    )
