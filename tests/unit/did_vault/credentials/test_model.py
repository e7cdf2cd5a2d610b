"""VC Data Model 2.0 rules enforced by the credential and presentation views."""

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from did_vault.credentials.model import (
    VerifiableCredential,
    VerifiablePresentation,
    format_date_time_stamp,
    parse_date_time_stamp,
    parse_json,
)
from did_vault.errors import MalformedCredentialError

V2 = "https://www.w3.org/ns/credentials/v2"


def _credential(**changes: Any) -> dict[str, Any]:
    credential: dict[str, Any] = {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:subject", "owns": "bicycle"},
    }
    credential.update(changes)
    return {key: value for key, value in credential.items() if value is not None}


def test_a_minimal_credential_is_valid() -> None:
    credential = VerifiableCredential.from_json(_credential())
    assert credential.issuer_id == "did:example:issuer"
    assert credential.valid_from == datetime(2026, 1, 1, tzinfo=UTC)
    assert credential.types == ["VerifiableCredential"]
    assert credential.subjects == [{"id": "did:example:subject", "owns": "bicycle"}]
    assert credential.proofs == []


def test_issuer_may_be_an_object_with_an_id() -> None:
    credential = VerifiableCredential.from_json(
        _credential(issuer={"id": "did:web:brand.example", "name": "Brand X"})
    )
    assert credential.issuer_id == "did:web:brand.example"


def test_context_may_be_the_v2_url_alone() -> None:
    assert VerifiableCredential.from_json(_credential(**{"@context": V2}))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"@context": ["https://www.w3.org/2018/credentials/v1"]}, "@context"),
        ({"@context": [{"@vocab": "urn:x#"}, V2]}, "@context"),
        ({"@context": []}, "@context"),
        ({"type": ["UniversityDegreeCredential"]}, "type"),
        ({"type": "VerifiablePresentation"}, "type"),
        ({"issuer": "not a url"}, "issuer"),
        ({"issuer": {"name": "no id"}}, "issuer"),
        ({"validFrom": "2026-01-01T00:00:00"}, "validFrom"),
        ({"validFrom": "2026-01-01"}, "validFrom"),
        ({"validUntil": "2026-13-01T00:00:00Z"}, "validUntil"),
        ({"validUntil": "2025-01-01T00:00:00Z"}, "(document)"),
        ({"credentialSubject": {}}, "credentialSubject"),
        ({"credentialSubject": []}, "credentialSubject"),
        ({"credentialSubject": [{"id": "did:example:a"}, {}]}, "credentialSubject"),
        ({"credentialSubject": {"id": "not a url"}}, "credentialSubject"),
        ({"credentialSubject": None}, "credentialSubject"),
        (
            {"credentialStatus": {"id": "https://status.example/1#3"}},
            "credentialStatus",
        ),
        ({"evidence": [{"id": "https://evidence.example/1"}]}, "evidence"),
        ({"relatedResource": [{"id": "https://img.example/1.png"}]}, "relatedResource"),
        (
            {"relatedResource": {"id": "https://x.example", "digestSRI": "md5-xyz"}},
            "relatedResource",
        ),
        ({"id": "no scheme"}, "id"),
    ],
    ids=lambda value: str(value)[:40] if isinstance(value, dict) else value,
)
def test_credential_rules(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(MalformedCredentialError) as caught:
        VerifiableCredential.from_json(_credential(**changes))
    assert caught.value.code == "credential.malformed"
    assert str(caught.value.context["field"]).startswith(field)


def test_related_resources_need_a_digest_and_may_have_both() -> None:
    credential = VerifiableCredential.from_json(
        _credential(
            relatedResource=[
                {
                    "id": "https://registry.example/receipts/1.pdf",
                    "digestSRI": "sha384-S57yQDg1MTzF56Oi9DbSQ14u7jBy0RDdx0Ybe"
                    + "V7shwhCS88G8SCXeFq82PafhCrW",
                    "digestMultibase": "uEiBZlVztZpfWHgPyslVv6-"
                    + "UwirFoQoRvW1htfx963sknNA",
                    "mediaType": "application/pdf",
                }
            ]
        )
    )
    assert credential.related_resource is not None


def test_status_and_evidence_entries_are_kept() -> None:
    credential = VerifiableCredential.from_json(
        _credential(
            credentialStatus=[
                {
                    "id": "https://status.example/1#3",
                    "type": "BitstringStatusListEntry",
                },
                {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"},
            ],
            evidence={"type": ["Evidence", "Receipt"], "digestMultibase": "zQm"},
        )
    )
    assert [entry.type for entry in credential.status_entries] == [
        "BitstringStatusListEntry",
        "BitstringStatusListEntry",
    ]


def test_from_json_accepts_text_and_rejects_non_objects() -> None:
    text = json.dumps(_credential())
    assert VerifiableCredential.from_json(text).issuer_id == "did:example:issuer"
    with pytest.raises(MalformedCredentialError):
        VerifiableCredential.from_json("[]")
    with pytest.raises(MalformedCredentialError):
        VerifiableCredential.from_json(b"\xff")


def test_presentation_rules() -> None:
    presentation = VerifiablePresentation.from_json(
        {
            "@context": [V2],
            "type": "VerifiablePresentation",
            "holder": {"id": "did:example:holder"},
            "verifiableCredential": _credential(),
        }
    )
    assert presentation.holder_id == "did:example:holder"
    assert presentation.credentials == [_credential()]
    with pytest.raises(MalformedCredentialError):
        VerifiablePresentation.from_json(
            {"@context": [V2], "type": "VerifiableCredential"}
        )
    with pytest.raises(MalformedCredentialError):
        VerifiablePresentation.from_json(
            {"@context": [V2], "type": "VerifiablePresentation", "holder": "nope"}
        )


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-11-23T12:00:00Z", datetime(2026, 11, 23, 12, tzinfo=UTC)),
        ("2026-11-23T13:00:00+01:00", datetime(2026, 11, 23, 12, tzinfo=UTC)),
        (
            "2026-11-23T12:00:00.123456789-00:30",
            datetime(
                2026, 11, 23, 12, 0, 0, 123456, tzinfo=timezone(-timedelta(minutes=30))
            ),
        ),
    ],
)
def test_parse_date_time_stamp(text: str, moment: datetime) -> None:
    assert parse_date_time_stamp(text) == moment


@pytest.mark.parametrize(
    "text",
    ["2026-11-23T12:00:00", "2026-11-23 12:00:00Z", "2026-02-30T00:00:00Z", 1700000000],
)
def test_parse_date_time_stamp_rejects(text: Any) -> None:
    with pytest.raises(ValueError, match="dateTimeStamp"):
        parse_date_time_stamp(text)


def test_format_date_time_stamp_is_utc_seconds() -> None:
    moment = datetime(2026, 11, 23, 13, 0, 0, 999, tzinfo=timezone(timedelta(hours=1)))
    assert format_date_time_stamp(moment) == "2026-11-23T12:00:00Z"
    with pytest.raises(ValueError, match="time zone"):
        format_date_time_stamp(datetime(2026, 11, 23))


def test_parse_json_is_strict() -> None:
    assert parse_json('{"a": [1, 2.5, "x"]}') == {"a": [1, 2.5, "x"]}
    for text in ('{"a": Infinity}', '{"a": 1, "a": 1}', "{"):
        with pytest.raises(MalformedCredentialError):
            parse_json(text)
