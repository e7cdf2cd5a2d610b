"""A verified Data Integrity presentation against a DCQL request (format ldp_vc)."""

from datetime import UTC, datetime
from typing import Any

import pytest

from did_vault.credentials.issuer import (
    create_presentation,
    issue_credential,
    sign_presentation,
)
from did_vault.credentials.request import (
    check_holder_is_subject,
    check_presentation_request,
)
from did_vault.credentials.verifier import (
    PresentationVerification,
    verify_presentation,
)
from did_vault.dids import create_did_key, default_resolver
from did_vault.errors import HolderMismatchError, UnsatisfiableQueryError
from did_vault.keys import KeyAlgorithm, PrivateKey
from did_vault.sd_jwt.dcql import DCQLQuery, load_template

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
CREATED = datetime(2026, 11, 20, 9, 30, 0, tzinfo=UTC)
ISSUER_KEY = PrivateKey(KeyAlgorithm.ED25519, bytes(range(32)))
HOLDER_KEY = PrivateKey(KeyAlgorithm.ED25519, bytes(range(1, 33)))
CHALLENGE = "c0ffee-1234"
DOMAIN = "did:web:vendor.example"
REGISTRY_CONTEXT = "https://registry.example/ns/registry/v1"
OWNERSHIP_IRI = "https://registry.example/ns/registry#OwnershipCredential"
ITEM = "did:key:z6MkvRXNYcE7MMduynWTgeKbDaT1iijDSC8pZqXZc8rHPrf2"


def _did(key: PrivateKey) -> str:
    return str(create_did_key(key.public_key))


def _method(key: PrivateKey) -> str:
    return f"{_did(key)}#{key.public_key.to_multikey()}"


def _ownership() -> dict[str, Any]:
    return issue_credential(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2", REGISTRY_CONTEXT],
            "id": "urn:uuid:0b9c8b5e-1111-4a5b-9c7d-000000000001",
            "type": ["VerifiableCredential", "OwnershipCredential"],
            "issuer": _did(ISSUER_KEY),
            "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {
                "id": _did(HOLDER_KEY),
                "owns": {
                    "type": "OwnershipInfo",
                    "typeOfGood": ITEM,
                    "ownedFrom": "2026-05-02T00:00:00Z",
                    "acquisition": {"purchaseDate": "2026-05-02"},
                },
            },
        },
        key=ISSUER_KEY,
        verification_method=_method(ISSUER_KEY),
        created=CREATED,
    )


def _verified(credentials: list[dict[str, Any]]) -> PresentationVerification:
    presentation = sign_presentation(
        create_presentation(credentials, holder=_did(HOLDER_KEY)),
        key=HOLDER_KEY,
        verification_method=_method(HOLDER_KEY),
        challenge=CHALLENGE,
        domain=DOMAIN,
        created=CREATED,
    )
    return verify_presentation(
        presentation,
        resolver=default_resolver(),
        challenge=CHALLENGE,
        domain=DOMAIN,
        now=NOW,
    )


def _query(*paths: list[Any], type_values: Any = None, **extra: Any) -> DCQLQuery:
    credential: dict[str, Any] = {
        "id": "ownership",
        "format": "ldp_vc",
        "meta": {"type_values": type_values or [["OwnershipCredential"]]},
        "claims": [{"path": path} for path in paths],
        **extra,
    }
    return DCQLQuery.from_json({"credentials": [credential]})


TYPE_OF_GOOD = ["credentialSubject", "owns", "typeOfGood"]
OWNED_FROM = ["credentialSubject", "owns", "ownedFrom"]


def test_presentation_answers_an_ldp_vc_query() -> None:
    answer = check_presentation_request(
        _verified([_ownership()]), _query(TYPE_OF_GOOD, OWNED_FROM)
    )
    [match] = answer.answer.matches
    assert (match.query_id, match.credential_index) == ("ownership", 0)
    assert match.disclose == (tuple(TYPE_OF_GOOD), tuple(OWNED_FROM))


def test_the_answer_lists_what_was_seen_but_not_asked_for() -> None:
    answer = check_presentation_request(_verified([_ownership()]), _query(TYPE_OF_GOOD))
    assert answer.unrequested == (
        (0, ("credentialSubject", "id")),
        (0, ("credentialSubject", "owns", "acquisition", "purchaseDate")),
        (0, ("credentialSubject", "owns", "ownedFrom")),
        (0, ("credentialSubject", "owns", "type")),
    )


def test_a_credential_no_query_asks_for_is_unrequested_whole() -> None:
    answer = check_presentation_request(
        _verified([_ownership(), _ownership()]), _query(["credentialSubject"])
    )
    assert {index for index, _ in answer.unrequested} == {1}


def test_type_values_may_name_the_expanded_iris() -> None:
    query = _query(
        TYPE_OF_GOOD,
        type_values=[
            ["https://www.w3.org/2018/credentials#VerifiableCredential", OWNERSHIP_IRI]
        ],
    )
    answer = check_presentation_request(_verified([_ownership()]), query)
    assert answer.answer.for_query("ownership") is not None


def test_a_missing_claim_is_unsatisfiable() -> None:
    with pytest.raises(UnsatisfiableQueryError) as info:
        check_presentation_request(
            _verified([_ownership()]),
            _query(["credentialSubject", "owns", "valuation"]),
        )
    assert info.value.code == "dcql.unsatisfiable"


def test_another_credential_type_is_unsatisfiable() -> None:
    with pytest.raises(UnsatisfiableQueryError):
        check_presentation_request(
            _verified([_ownership()]),
            _query(TYPE_OF_GOOD, type_values=[["ItemIdentityCredential"]]),
        )


def test_a_template_asks_for_an_sd_jwt_vc_and_is_unsatisfiable() -> None:
    with pytest.raises(UnsatisfiableQueryError) as info:
        check_presentation_request(
            _verified([_ownership()]), load_template("warranty-check")
        )
    assert "Data Integrity presentation" in info.value.detail
    assert info.value.context["formats"] == "dc+sd-jwt"


def test_an_sd_jwt_query_beside_an_ldp_vc_query_still_fails() -> None:
    query = DCQLQuery.from_json(
        {
            "credentials": [
                {
                    "id": "ownership",
                    "format": "ldp_vc",
                    "meta": {"type_values": [["OwnershipCredential"]]},
                },
                {
                    "id": "sd",
                    "format": "dc+sd-jwt",
                    "meta": {"vct_values": ["urn:x"]},
                },
            ]
        }
    )
    with pytest.raises(UnsatisfiableQueryError) as info:
        check_presentation_request(_verified([_ownership()]), query)
    assert info.value.context["query"] == "sd"
    assert "Data Integrity presentation" in info.value.detail


def test_credential_sets_pick_the_option_the_presentation_answers() -> None:
    query = DCQLQuery.from_json(
        {
            "credentials": [
                {
                    "id": "item",
                    "format": "ldp_vc",
                    "meta": {"type_values": [["ItemIdentityCredential"]]},
                },
                {
                    "id": "ownership",
                    "format": "ldp_vc",
                    "meta": {"type_values": [["OwnershipCredential"]]},
                    "claims": [{"path": TYPE_OF_GOOD}],
                },
            ],
            "credential_sets": [{"options": [["item"], ["ownership"]]}],
        }
    )
    answer = check_presentation_request(_verified([_ownership()]), query)
    assert [m.query_id for m in answer.answer.matches] == ["ownership"]


# --- holder binding -------------------------------------------------------------------


def _about(subject: Any) -> dict[str, Any]:
    """An OwnershipCredential like ``_ownership`` with another credentialSubject."""
    unsigned = {name: value for name, value in _ownership().items() if name != "proof"}
    unsigned["credentialSubject"] = subject
    return issue_credential(
        unsigned,
        key=ISSUER_KEY,
        verification_method=_method(ISSUER_KEY),
        created=CREATED,
    )


def test_a_credential_about_its_holder_passes_the_holder_check():
    check_holder_is_subject(_verified([_ownership()]))


@pytest.mark.parametrize(
    "subject",
    [
        {"id": "did:key:z6MkvRXNYcE7MMduynWTgeKbDaT1iijDSC8pZqXZc8rHPrf2"},
        {"name": "no subject id: a bearer credential"},
    ],
    ids=["another-did", "no-subject-id"],
)
def test_a_credential_not_about_its_holder_fails_the_holder_check(subject):
    verified = _verified([_ownership(), _about(subject)])
    with pytest.raises(HolderMismatchError) as raised:
        check_holder_is_subject(verified)
    assert raised.value.code == "presentation.holder-mismatch"
    assert raised.value.context["credential"] == 1


def test_one_of_several_subjects_being_the_holder_is_enough():
    both = [{"id": ITEM}, {"id": _did(HOLDER_KEY)}]
    check_holder_is_subject(_verified([_about(both)]))
