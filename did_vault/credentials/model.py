"""W3C Verifiable Credentials Data Model 2.0 (https://www.w3.org/TR/vc-data-model-2.0/).

``VerifiableCredential`` and ``VerifiablePresentation`` are read-only views over a
document, checked against the data model's rules on construction (``from_json``):

* ``@context``: an ordered set whose first item is ``https://www.w3.org/ns/credentials/v2``;
* ``type`` includes ``VerifiableCredential`` / ``VerifiablePresentation``;
* ``issuer`` a URL, or an object whose ``id`` is one; ``id`` members are URLs;
* ``validFrom`` / ``validUntil`` are XML Schema ``dateTimeStamp`` (time zone required);
* ``credentialSubject`` is a non-empty object or a non-empty list of them;
* ``credentialStatus`` and ``evidence`` entries have a ``type``;
* ``relatedResource`` entries have an ``id`` and a ``digestSRI`` or ``digestMultibase``.

A view is never serialised back for signing or verification: proofs are checked over
the document exactly as it was received.
"""

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Self, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from did_vault.errors import MalformedCredentialError

CREDENTIALS_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VERIFIABLE_CREDENTIAL_TYPE = "VerifiableCredential"
VERIFIABLE_PRESENTATION_TYPE = "VerifiablePresentation"

_DATE_TIME_STAMP = re.compile(
    r"(?P<main>-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]+))?(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})"
)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+")
_SRI = re.compile(r"(sha256|sha384|sha512)-[A-Za-z0-9+/]+={0,2}(\?[^\s]*)?")
_MULTIBASE = re.compile(r"[a-zA-Z0-9][A-Za-z0-9+/=_\-]+")


def parse_date_time_stamp(value: object) -> datetime:
    """Parse an XML Schema 1.1 ``dateTimeStamp`` (the zone is required).

    Raises:
        ValueError: not a string, not the lexical form, or not a real moment.
    """
    if not isinstance(value, str):
        raise ValueError("a dateTimeStamp must be a string")
    match = _DATE_TIME_STAMP.fullmatch(value)
    if match is None:
        raise ValueError("not an XML Schema dateTimeStamp (time zone required)")
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    zone = "+00:00" if match["zone"] == "Z" else match["zone"]
    try:
        return datetime.fromisoformat(f"{match['main']}.{fraction}{zone}")
    except ValueError as exc:  # e.g. February 30th, or a year outside 1..9999
        raise ValueError("not a representable dateTimeStamp") from exc


def format_date_time_stamp(moment: datetime) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` in UTC, whole seconds (as the W3C examples write it).

    Raises:
        ValueError: a naive datetime (no time zone).
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a dateTimeStamp needs a time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_url(value: object) -> bool:
    """Whether ``value`` is an absolute URL (a scheme, then no whitespace)."""
    return isinstance(value, str) and _URL.fullmatch(value) is not None


def _check_url(value: str | None, what: str) -> str | None:
    if value is not None and not is_url(value):
        raise ValueError(f"{what} must be a URL")
    return value


def _types(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


_CONFIG = ConfigDict(
    frozen=True, extra="allow", populate_by_name=True, alias_generator=to_camel
)


class Issuer(BaseModel):
    """An issuer (or holder) given as an object: its ``id`` plus any other members."""

    model_config = _CONFIG

    id: str

    @field_validator("id")
    @classmethod
    def _url(cls, value: str) -> str:
        _check_url(value, "id")
        return value


class CredentialStatusEntry(BaseModel):
    """One ``credentialStatus`` entry (e.g. a ``BitstringStatusListEntry``)."""

    model_config = _CONFIG

    id: str | None = None
    type: str | list[str]

    @field_validator("id")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _check_url(value, "credentialStatus id")


class Evidence(BaseModel):
    """One ``evidence`` entry."""

    model_config = _CONFIG

    id: str | None = None
    type: str | list[str]

    @field_validator("id")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _check_url(value, "evidence id")


class RelatedResource(BaseModel):
    """A hash-linked resource (VCDM 2.0 §5.3 Integrity of Related Resources)."""

    model_config = _CONFIG

    id: str
    digest_sri: str | None = Field(default=None, alias="digestSRI")
    digest_multibase: str | None = None
    media_type: str | None = None

    @field_validator("id")
    @classmethod
    def _url(cls, value: str) -> str:
        _check_url(value, "relatedResource id")
        return value

    @field_validator("digest_sri")
    @classmethod
    def _sri(cls, value: str | None) -> str | None:
        if value is not None and _SRI.fullmatch(value) is None:
            raise ValueError("digestSRI must be an SRI hash (sha256/384/512-base64)")
        return value

    @field_validator("digest_multibase")
    @classmethod
    def _multibase(cls, value: str | None) -> str | None:
        if value is not None and _MULTIBASE.fullmatch(value) is None:
            raise ValueError("digestMultibase must be a multibase value")
        return value

    @model_validator(mode="after")
    def _has_digest(self) -> Self:
        if self.digest_sri is None and self.digest_multibase is None:
            raise ValueError("a relatedResource needs digestSRI or digestMultibase")
        return self


_T = TypeVar("_T")


def _one_or_many(value: _T | list[_T] | None) -> list[_T]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


class _Document(BaseModel):
    model_config = _CONFIG

    context: list[str | dict[str, Any]] = Field(alias="@context")
    id: str | None = None
    type: str | list[str]
    proof: dict[str, Any] | list[dict[str, Any]] | None = None

    @field_validator("context", mode="before")
    @classmethod
    def _context(cls, value: object) -> object:
        value = [value] if isinstance(value, str) else value
        if (
            not isinstance(value, list)
            or not value
            or value[0] != CREDENTIALS_V2_CONTEXT
        ):
            raise ValueError(
                f"the first @context item must be {CREDENTIALS_V2_CONTEXT}"
            )
        return value

    @field_validator("id")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _check_url(value, "id")

    @property
    def types(self) -> list[str]:
        """``type`` as a list."""
        return _types(self.type)

    @property
    def proofs(self) -> list[dict[str, Any]]:
        """The proofs (a proof set is a list), empty when unsigned."""
        return _one_or_many(self.proof)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str | bytes) -> Self:
        """Check a document (JSON text or parsed) against the data model rules.

        Raises:
            MalformedCredentialError: not JSON, not an object, or breaks a rule
                (``context["field"]`` names the first offending member).
        """
        if isinstance(data, str | bytes):
            data = parse_json(data)
        if not isinstance(data, Mapping):
            raise MalformedCredentialError("a credential must be a JSON object")
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            first = exc.errors()[0]
            raise MalformedCredentialError(
                f"not a valid {cls.__name__}: {first['msg']}",
                field=".".join(str(part) for part in first["loc"]) or "(document)",
            ) from exc


class VerifiableCredential(_Document):
    """A verifiable credential (VCDM 2.0 §4)."""

    issuer: str | Issuer
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    credential_subject: dict[str, Any] | list[dict[str, Any]]
    credential_status: CredentialStatusEntry | list[CredentialStatusEntry] | None = None
    evidence: Evidence | list[Evidence] | None = None
    related_resource: RelatedResource | list[RelatedResource] | None = None

    @field_validator("type")
    @classmethod
    def _type(cls, value: str | list[str]) -> str | list[str]:
        if VERIFIABLE_CREDENTIAL_TYPE not in _types(value):
            raise ValueError(f"type must include {VERIFIABLE_CREDENTIAL_TYPE}")
        return value

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str | Issuer) -> str | Issuer:
        if isinstance(value, str):
            _check_url(value, "issuer")
        return value

    @field_validator("valid_from", "valid_until", mode="before")
    @classmethod
    def _date_time_stamp(cls, value: object) -> datetime | None:
        return None if value is None else parse_date_time_stamp(value)

    @field_validator("credential_subject")
    @classmethod
    def _subject(
        cls, value: dict[str, Any] | list[dict[str, Any]]
    ) -> dict[str, Any] | list[dict[str, Any]]:
        subjects = _one_or_many(value)
        if not subjects or not all(subjects):
            raise ValueError("credentialSubject must be one or more non-empty objects")
        for subject in subjects:
            _check_url(subject.get("id"), "credentialSubject id")
        return value

    @model_validator(mode="after")
    def _period(self) -> Self:
        if (
            self.valid_from is not None
            and self.valid_until is not None
            and self.valid_until < self.valid_from
        ):
            raise ValueError("validUntil is before validFrom")
        return self

    @property
    def issuer_id(self) -> str:
        """The issuer's URL (a DID for credentials this library verifies)."""
        return self.issuer if isinstance(self.issuer, str) else self.issuer.id

    @property
    def subjects(self) -> list[dict[str, Any]]:
        """``credentialSubject`` as a list."""
        return _one_or_many(self.credential_subject)

    @property
    def status_entries(self) -> list[CredentialStatusEntry]:
        """``credentialStatus`` as a list (empty when absent)."""
        return _one_or_many(self.credential_status)


class VerifiablePresentation(_Document):
    """A verifiable presentation (VCDM 2.0 §4.13) with embedded credentials."""

    holder: str | Issuer | None = None
    verifiable_credential: dict[str, Any] | list[dict[str, Any]] | None = None

    @field_validator("type")
    @classmethod
    def _type(cls, value: str | list[str]) -> str | list[str]:
        if VERIFIABLE_PRESENTATION_TYPE not in _types(value):
            raise ValueError(f"type must include {VERIFIABLE_PRESENTATION_TYPE}")
        return value

    @field_validator("holder")
    @classmethod
    def _holder(cls, value: str | Issuer | None) -> str | Issuer | None:
        if isinstance(value, str):
            _check_url(value, "holder")
        return value

    @property
    def holder_id(self) -> str | None:
        """The holder's URL, if the presentation names one."""
        if self.holder is None or isinstance(self.holder, str):
            return self.holder
        return self.holder.id

    @property
    def credentials(self) -> list[dict[str, Any]]:
        """The embedded credentials, exactly as received."""
        return _one_or_many(self.verifiable_credential)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate member {key!r}")
        result[key] = value
    return result


def parse_json(text: str | bytes) -> Any:
    """Parse received JSON strictly: no NaN/Infinity, no duplicate member names.

    Raises:
        MalformedCredentialError: not such JSON.
    """
    try:
        return json.loads(
            text,
            parse_constant=_reject_constant,
            object_pairs_hook=_reject_duplicates,
        )
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise MalformedCredentialError("not valid JSON") from exc
