"""did:key method (https://w3c-ccg.github.io/did-method-key/).

``did:key:<Multikey>``: the DID is the public key itself, multicodec-tagged and
multibase base58btc encoded. Resolution expands it into the Multikey DID document of
the current spec: contexts DID v1 + Multikey v1, one ``Multikey`` verification method
``did:key:z…#z…`` listed under authentication, assertionMethod, capabilityInvocation
and capabilityDelegation. For Ed25519 the document also carries, under keyAgreement,
the embedded X25519 Multikey derived from the Ed25519 key (``#z6LS…``). P-256 documents
have no keyAgreement entry: the spec derives encryption keys only from Ed25519.
"""

from did_vault.dids.did import DID
from did_vault.dids.document import (
    DID_CONTEXT_V1,
    MULTIKEY_CONTEXT_V1,
    MULTIKEY_TYPE,
    DIDDocument,
    VerificationMethod,
)
from did_vault.errors import (
    InvalidDIDError,
    InvalidKeyError,
    UnsupportedDIDMethodError,
)
from did_vault.keys import KeyAlgorithm, PublicKey

METHOD = "key"
MULTIBASE_BASE58BTC_PREFIX = "z"


def create_did_key(public_key: PublicKey) -> DID:
    """The did:key DID of a public key (``did:key:z6Mk…`` or ``did:key:zDn…``)."""
    return DID(METHOD, public_key.to_multikey())


def did_key_public_key(did: DID | str) -> PublicKey:
    """The public key a did:key DID encodes.

    Raises:
        InvalidDIDError: not a DID, or not a single base58btc Multikey value.
        UnsupportedDIDMethodError: a DID of another method.
        InvalidEncodingError: bad base58btc or multicodec varint.
        InvalidKeyError: a private key codec, a wrong key length, or an off-curve point.
        UnsupportedAlgorithmError: a multicodec other than Ed25519 or P-256 public keys.
    """
    parsed = DID.parse(did) if isinstance(did, str) else did
    if parsed.method != METHOD:
        raise UnsupportedDIDMethodError(
            "not a did:key DID", method=parsed.method, expected=METHOD
        )
    value = parsed.method_specific_id
    if ":" in value or not value.startswith(MULTIBASE_BASE58BTC_PREFIX):
        raise InvalidDIDError("a did:key identifier is one base58btc Multikey value")
    public_key = PublicKey.from_multikey(value)
    if public_key.to_multikey() != value:  # pragma: no cover - base58 is canonical
        raise InvalidDIDError("the did:key identifier is not canonically encoded")
    return public_key


def resolve_did_key(did: DID | str) -> DIDDocument:
    """Expand a did:key DID into its Multikey DID document.

    Raises:
        InvalidDIDError, UnsupportedDIDMethodError, InvalidEncodingError,
        InvalidKeyError, UnsupportedAlgorithmError: as ``did_key_public_key``.
    """
    public_key = did_key_public_key(did)
    identifier = str(create_did_key(public_key))
    multikey = public_key.to_multikey()
    signing = VerificationMethod(
        id=f"{identifier}#{multikey}",
        type=MULTIKEY_TYPE,
        controller=identifier,
        public_key_multibase=multikey,
    )
    key_agreement: list[str | VerificationMethod] | None = None
    if public_key.algorithm is KeyAlgorithm.ED25519:
        try:
            x25519 = public_key.to_x25519_multikey()
        except ValueError as exc:  # y = 1, the identity point: no Montgomery form
            raise InvalidKeyError("the Ed25519 key has no X25519 equivalent") from exc
        key_agreement = [
            VerificationMethod(
                id=f"{identifier}#{x25519}",
                type=MULTIKEY_TYPE,
                controller=identifier,
                public_key_multibase=x25519,
            )
        ]
    reference: list[str | VerificationMethod] = [signing.id]
    return DIDDocument(
        context=[DID_CONTEXT_V1, MULTIKEY_CONTEXT_V1],
        id=identifier,
        verification_method=[signing],
        authentication=reference,
        assertion_method=reference,
        capability_invocation=reference,
        capability_delegation=reference,
        key_agreement=key_agreement,
    )
