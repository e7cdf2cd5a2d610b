"""DID document models: validation, JSON round trip, verification method lookup."""

import pytest

from did_vault.dids.did import DIDURL
from did_vault.dids.document import (
    DID_CONTEXT_V1,
    DIDDocument,
    VerificationMethod,
)
from did_vault.errors import (
    InvalidDIDDocumentError,
    InvalidKeyError,
    UnsupportedAlgorithmError,
    VerificationMethodNotFoundError,
)
from did_vault.keys import KeyAlgorithm, PrivateKey

DID = "did:example:123"
ED = PrivateKey(KeyAlgorithm.ED25519, bytes(32)).public_key
P256 = PrivateKey(KeyAlgorithm.P256, bytes(31) + b"\x01").public_key


def _vm(fragment: str, **extra: object) -> dict[str, object]:
    return {
        "id": f"{DID}#{fragment}",
        "type": "Multikey",
        "controller": DID,
        "publicKeyMultibase": ED.to_multikey(),
        **extra,
    }


def _document(**members) -> DIDDocument:
    return DIDDocument.from_json({"@context": [DID_CONTEXT_V1], "id": DID, **members})


def test_from_json_reads_json_names_and_to_json_writes_them_back():
    data = {
        "@context": [DID_CONTEXT_V1, {"@vocab": "https://example.com/#"}],
        "id": DID,
        "controller": [DID],
        "alsoKnownAs": ["https://example.com/alice"],
        "verificationMethod": [_vm("k1")],
        "authentication": [f"{DID}#k1"],
        "assertionMethod": ["#k1"],
        "keyAgreement": [_vm("k2")],
        "service": [
            {
                "id": f"{DID}#hub",
                "type": "LinkedDomains",
                "serviceEndpoint": {"origins": ["https://example.com"]},
            }
        ],
        "custom": {"kept": True},
    }

    document = DIDDocument.from_json(data)

    assert document.to_json() == data
    assert document.also_known_as == ["https://example.com/alice"]
    assert document.service is not None
    assert document.service[0].service_endpoint == {"origins": ["https://example.com"]}


def test_from_json_accepts_text_and_bytes():
    text = f'{{"id": "{DID}"}}'

    assert DIDDocument.from_json(text) == DIDDocument.from_json(text.encode())


def test_documents_are_frozen():
    document = _document()

    with pytest.raises(ValueError, match="frozen"):
        document.id = "did:example:other"


BAD_DOCUMENTS = {
    "not-json": b"{",
    "not-utf8": b"\xff",
    "array": [],
    "no-id": {"@context": DID_CONTEXT_V1},
    "id-not-a-did": {"id": "https://example.com"},
    "id-is-did-url": {"id": f"{DID}#frag"},
    "controller-not-a-did": {"id": DID, "controller": "alice"},
    "method-without-type": {
        "id": DID,
        "verificationMethod": [{"id": f"{DID}#k", "controller": DID}],
    },
    "method-with-two-keys": {
        "id": DID,
        "verificationMethod": [_vm("k", publicKeyJwk=ED.to_jwk())],
    },
    "method-id-not-a-did-url": {
        "id": DID,
        "verificationMethod": [_vm("k", id="key-1")],
    },
    "method-controller-not-a-did": {
        "id": DID,
        "verificationMethod": [_vm("k", controller="alice")],
    },
    "bad-reference": {"id": DID, "authentication": ["key 1"]},
    "relationship-not-a-list": {"id": DID, "authentication": f"{DID}#k"},
    "duplicate-method-ids": {
        "id": DID,
        "verificationMethod": [_vm("k"), _vm("k")],
    },
    "duplicate-relative-and-absolute": {
        "id": DID,
        "verificationMethod": [_vm("k"), _vm("k", id="#k")],
    },
}


@pytest.mark.parametrize(
    "data", [pytest.param(data, id=name) for name, data in BAD_DOCUMENTS.items()]
)
def test_from_json_rejects_invalid_documents_with_document_invalid(data):
    with pytest.raises(InvalidDIDDocumentError) as exc_info:
        DIDDocument.from_json(data)

    assert exc_info.value.code == "did.document-invalid"


def test_find_verification_method_accepts_absolute_relative_and_did_url_ids():
    document = _document(verificationMethod=[_vm("k1"), _vm("k2", id="#k2")])

    assert document.find_verification_method(f"{DID}#k1").id == f"{DID}#k1"
    assert document.find_verification_method("#k1").id == f"{DID}#k1"
    assert document.find_verification_method(DIDURL.parse(f"{DID}#k2")).id == "#k2"


def test_find_verification_method_finds_embedded_methods():
    document = _document(keyAgreement=[_vm("x")])

    assert document.find_verification_method("#x").id == f"{DID}#x"


def test_find_verification_method_checks_the_relationship():
    document = _document(
        verificationMethod=[_vm("k1"), _vm("k2")],
        assertionMethod=["#k1"],
        authentication=[f"{DID}#k2", _vm("k3")],
    )

    assert document.find_verification_method("#k1", relationship="assertionMethod")
    assert document.find_verification_method("#k2", relationship="authentication")
    assert document.find_verification_method("#k3", relationship="authentication")


@pytest.mark.parametrize(
    ("reference", "relationship"),
    [
        pytest.param("#k2", "assertionMethod", id="listed-elsewhere"),
        pytest.param("#k3", "assertionMethod", id="embedded-elsewhere"),
        pytest.param("#k1", "capabilityDelegation", id="relationship-absent"),
        pytest.param("#missing", None, id="no-such-method"),
        pytest.param("did:example:other#k1", None, id="another-did"),
        pytest.param("#dangling", "keyAgreement", id="dangling-reference"),
    ],
)
def test_find_verification_method_raises_not_found(reference, relationship):
    document = _document(
        verificationMethod=[_vm("k1"), _vm("k2")],
        assertionMethod=["#k1"],
        authentication=[f"{DID}#k2", _vm("k3")],
        keyAgreement=["#dangling"],
    )

    with pytest.raises(VerificationMethodNotFoundError) as exc_info:
        document.find_verification_method(reference, relationship=relationship)

    assert exc_info.value.code == "did.verification-method-not-found"


def test_find_verification_method_rejects_an_unknown_relationship_name():
    with pytest.raises(ValueError, match="unknown verification relationship"):
        _document().find_verification_method("#k", relationship="signing")  # type: ignore[arg-type]


def test_methods_for_resolves_references_and_keeps_embedded_methods():
    document = _document(
        verificationMethod=[_vm("k1")], authentication=["#k1", _vm("k2")]
    )

    assert [vm.id for vm in document.methods_for("authentication")] == [
        f"{DID}#k1",
        f"{DID}#k2",
    ]
    assert document.methods_for("keyAgreement") == []


def test_methods_for_raises_not_found_for_a_dangling_reference():
    document = _document(authentication=["#gone"])

    with pytest.raises(VerificationMethodNotFoundError) as exc_info:
        document.methods_for("authentication")

    assert exc_info.value.code == "did.verification-method-not-found"


@pytest.mark.parametrize("key", [ED, P256], ids=["ed25519", "p256"])
def test_public_key_reads_multikey_and_jwk(key):
    by_multikey = VerificationMethod(
        id=f"{DID}#a",
        type="Multikey",
        controller=DID,
        public_key_multibase=key.to_multikey(),
    )
    by_jwk = VerificationMethod(
        id=f"{DID}#b",
        type="JsonWebKey2020",
        controller=DID,
        public_key_jwk=key.to_jwk(),
    )

    assert by_multikey.public_key() == key
    assert by_jwk.public_key() == key


def test_public_key_rejects_an_x25519_multikey_as_unsupported():
    method = VerificationMethod(
        id=f"{DID}#x",
        type="Multikey",
        controller=DID,
        public_key_multibase=ED.to_x25519_multikey(),
    )

    with pytest.raises(UnsupportedAlgorithmError) as exc_info:
        method.public_key()

    assert exc_info.value.code == "key.algorithm-unsupported"


def test_public_key_rejects_a_private_jwk():
    method = VerificationMethod(
        id=f"{DID}#x",
        type="JsonWebKey2020",
        controller=DID,
        public_key_jwk=PrivateKey.generate().to_jwk(),
    )

    with pytest.raises(InvalidKeyError) as exc_info:
        method.public_key()

    assert exc_info.value.code == "key.invalid"


def test_did_property_parses_the_id():
    assert str(_document().did) == DID


def test_public_key_refuses_other_verification_material_as_unsupported():
    document = _document(
        verificationMethod=[
            {
                "id": f"{DID}#legacy",
                "type": "Ed25519VerificationKey2018",
                "controller": DID,
                "publicKeyBase58": "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS",
            }
        ]
    )

    with pytest.raises(UnsupportedAlgorithmError) as exc_info:
        document.find_verification_method("#legacy").public_key()

    assert exc_info.value.code == "key.algorithm-unsupported"
