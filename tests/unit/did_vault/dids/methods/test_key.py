"""did:key create and resolve, and every way a did:key can be wrong."""

import pytest

from did_vault.dids.did import DID
from did_vault.dids.document import DID_CONTEXT_V1, MULTIKEY_CONTEXT_V1
from did_vault.dids.methods.key import (
    create_did_key,
    did_key_public_key,
    resolve_did_key,
)
from did_vault.errors import (
    InvalidDIDError,
    InvalidEncodingError,
    InvalidKeyError,
    UnsupportedAlgorithmError,
    UnsupportedDIDMethodError,
)
from did_vault.keys import KeyAlgorithm, PrivateKey
from did_vault.primitives.multikey import (
    ED25519_PRIV,
    ED25519_PUB,
    P256_PUB,
    SECP256K1_PUB,
    X25519_PUB,
    base58btc_encode,
    encode_multikey,
)

SEED_ZERO_DID = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
SEED_ZERO_X25519 = "z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW"
P256_EXAMPLE_DID = "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169"


def _did(codec: int, raw: bytes) -> str:
    return f"did:key:{encode_multikey(codec, raw)}"


def test_create_did_key_returns_the_multikey_did(seed32):
    public_key = PrivateKey(KeyAlgorithm.ED25519, seed32).public_key

    did = create_did_key(public_key)

    assert did == DID("key", public_key.to_multikey())
    assert str(did) == SEED_ZERO_DID


def test_resolve_did_key_builds_the_multikey_document_for_ed25519():
    document = resolve_did_key(SEED_ZERO_DID)

    vm_id = f"{SEED_ZERO_DID}#{SEED_ZERO_DID.removeprefix('did:key:')}"
    assert document.to_json() == {
        "@context": [DID_CONTEXT_V1, MULTIKEY_CONTEXT_V1],
        "id": SEED_ZERO_DID,
        "verificationMethod": [
            {
                "id": vm_id,
                "type": "Multikey",
                "controller": SEED_ZERO_DID,
                "publicKeyMultibase": SEED_ZERO_DID.removeprefix("did:key:"),
            }
        ],
        "authentication": [vm_id],
        "assertionMethod": [vm_id],
        "capabilityInvocation": [vm_id],
        "capabilityDelegation": [vm_id],
        "keyAgreement": [
            {
                "id": f"{SEED_ZERO_DID}#{SEED_ZERO_X25519}",
                "type": "Multikey",
                "controller": SEED_ZERO_DID,
                "publicKeyMultibase": SEED_ZERO_X25519,
            }
        ],
    }


def test_resolve_did_key_gives_p256_no_key_agreement():
    document = resolve_did_key(P256_EXAMPLE_DID)

    (method,) = document.verification_method or []
    assert method.public_key().algorithm is KeyAlgorithm.P256
    assert document.key_agreement is None
    assert document.methods_for("assertionMethod") == [method]


@pytest.mark.parametrize("algorithm", list(KeyAlgorithm))
def test_resolve_round_trips_a_generated_key(algorithm):
    public_key = PrivateKey.generate(algorithm).public_key

    document = resolve_did_key(create_did_key(public_key))

    assert did_key_public_key(document.id) == public_key
    assert (
        document.find_verification_method(
            f"#{public_key.to_multikey()}", relationship="authentication"
        ).public_key()
        == public_key
    )


BAD_DIDS = {
    "x25519-codec": (_did(X25519_PUB, bytes(32)), "key.algorithm-unsupported"),
    "secp256k1-codec": (
        _did(SECP256K1_PUB, b"\x02" + bytes(32)),
        "key.algorithm-unsupported",
    ),
    "p384-codec": (_did(0x1201, bytes(49)), "key.algorithm-unsupported"),
    "unknown-codec": (_did(0x55, bytes(32)), "key.algorithm-unsupported"),
    "ed25519-private-codec": (_did(ED25519_PRIV, bytes(32)), "key.invalid"),
    "ed25519-31-bytes": (_did(ED25519_PUB, bytes(31)), "key.invalid"),
    "ed25519-33-bytes": (_did(ED25519_PUB, bytes(33)), "key.invalid"),
    "ed25519-empty": (_did(ED25519_PUB, b""), "key.invalid"),
    "p256-32-bytes": (_did(P256_PUB, b"\x02" + bytes(31)), "key.invalid"),
    "p256-uncompressed": (_did(P256_PUB, b"\x04" + bytes(64)), "key.invalid"),
    "ed25519-off-curve": (_did(ED25519_PUB, (2).to_bytes(32, "little")), "key.invalid"),
    "ed25519-y-not-reduced": (_did(ED25519_PUB, b"\xff" * 31 + b"\x7f"), "key.invalid"),
    "p256-off-curve": (
        _did(P256_PUB, b"\x02" + (1).to_bytes(32, "big")),
        "key.invalid",
    ),
    "ed25519-identity-point": (_did(ED25519_PUB, b"\x01" + bytes(31)), "key.invalid"),
    "p256-bad-prefix": (_did(P256_PUB, b"\x05" + bytes(32)), "key.invalid"),
    "not-base58-alphabet": ("did:key:z0OIl", "encoding.invalid"),
    "truncated-varint": ("did:key:" + base58btc_encode(b"\xff"), "encoding.invalid"),
    "non-minimal-varint": (
        "did:key:" + base58btc_encode(b"\xed\x80\x00" + bytes(32)),
        "encoding.invalid",
    ),
    "base16-multibase": ("did:key:f" + "ed01" + "00" * 32, "did.invalid"),
    "base64url-multibase": ("did:key:uAO0", "did.invalid"),
    "colon-in-identifier": ("did:key:z6Mk:extra", "did.invalid"),
    "empty-identifier": ("did:key:", "did.invalid"),
    "did-url-not-did": ("did:key:z6Mk#frag", "did.invalid"),
    "other-method": ("did:web:example.com", "did.method-unsupported"),
}


@pytest.mark.parametrize(
    ("did", "code"),
    [pytest.param(*case, id=name) for name, case in BAD_DIDS.items()],
)
def test_resolve_did_key_rejects_bad_dids_with_the_exact_code(did, code):
    with pytest.raises(
        (
            InvalidDIDError,
            InvalidEncodingError,
            InvalidKeyError,
            UnsupportedAlgorithmError,
            UnsupportedDIDMethodError,
        )
    ) as exc_info:
        resolve_did_key(did)

    assert exc_info.value.code == code
