"""DID documents (W3C DID Core 1.0 §5, https://www.w3.org/TR/did-core/#core-properties).

Models are frozen pydantic models with snake_case attributes and the JSON names as
aliases (``verification_method`` ↔ ``verificationMethod``, ``context`` ↔ ``@context``);
both spellings are accepted on input, and ``to_json()`` dumps the JSON names with
``by_alias=True, exclude_none=True``.

Verification methods are Multikey (W3C Controlled Identifiers) or JWK. A verification
relationship entry is either a reference (absolute DID URL or relative ``#fragment``)
or an embedded verification method.
"""

import json
from collections.abc import Mapping
from typing import Any, Literal, Self, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from did_vault.dids.did import DID, DIDURL
from did_vault.errors import (
    InvalidDIDDocumentError,
    InvalidDIDError,
    InvalidDIDURLError,
    UnsupportedAlgorithmError,
    VerificationMethodNotFoundError,
)
from did_vault.keys import PublicKey

DID_CONTEXT_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT_V1 = "https://w3id.org/security/multikey/v1"
JWS_2020_CONTEXT_V1 = "https://w3id.org/security/suites/jws-2020/v1"
MULTIKEY_TYPE = "Multikey"
JSON_WEB_KEY_2020_TYPE = "JsonWebKey2020"

VerificationRelationship = Literal[
    "authentication",
    "assertionMethod",
    "keyAgreement",
    "capabilityInvocation",
    "capabilityDelegation",
]
VERIFICATION_RELATIONSHIPS: tuple[VerificationRelationship, ...] = get_args(
    VerificationRelationship
)
_ATTRIBUTE_BY_RELATIONSHIP: dict[str, str] = {
    "authentication": "authentication",
    "assertionMethod": "assertion_method",
    "keyAgreement": "key_agreement",
    "capabilityInvocation": "capability_invocation",
    "capabilityDelegation": "capability_delegation",
}

_MODEL_CONFIG = ConfigDict(
    frozen=True,
    extra="allow",
    populate_by_name=True,
    alias_generator=to_camel,
)


def _check_did(value: str, what: str) -> str:
    try:
        DID.parse(value)
    except InvalidDIDError as exc:
        raise ValueError(f"{what} must be a DID") from exc
    return value


def _check_reference(value: str, what: str) -> str:
    """A DID URL, or a relative reference ``#fragment`` (DID Core §3.2.2)."""
    text = f"did:x:y{value}" if value.startswith("#") else value
    try:
        DIDURL.parse(text)
    except InvalidDIDURLError as exc:
        raise ValueError(f"{what} must be a DID URL or '#fragment'") from exc
    return value


class VerificationMethod(BaseModel):
    """A verification method (DID Core §5.2): one public key and its controller."""

    model_config = _MODEL_CONFIG

    id: str
    type: str
    controller: str
    public_key_multibase: str | None = None
    public_key_jwk: dict[str, Any] | None = None

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return _check_reference(value, "verification method id")

    @field_validator("controller")
    @classmethod
    def _valid_controller(cls, value: str) -> str:
        return _check_did(value, "verification method controller")

    @model_validator(mode="after")
    def _one_key(self) -> Self:
        # DID Core §5.2: one verification material property per method. Methods
        # with other material (e.g. legacy publicKeyBase58) are kept, but their
        # public_key() is refused.
        if self.public_key_multibase is not None and self.public_key_jwk is not None:
            raise ValueError(
                "a verification method has one of publicKeyMultibase and "
                "publicKeyJwk, not both"
            )
        return self

    def public_key(self) -> PublicKey:
        """The verification method's public key.

        Raises:
            InvalidKeyError: bad key bytes, an off-curve point, or a private key.
            InvalidEncodingError: a badly encoded Multikey or JWK member.
            UnsupportedAlgorithmError: a key type other than Ed25519 or P-256, or
                key material in a property other than publicKeyMultibase and
                publicKeyJwk.
        """
        if self.public_key_multibase is not None:
            return PublicKey.from_multikey(self.public_key_multibase)
        if self.public_key_jwk is not None:
            return PublicKey.from_jwk(self.public_key_jwk)
        raise UnsupportedAlgorithmError(
            "the verification method has no publicKeyMultibase or publicKeyJwk",
            id=self.id,
        )


class Service(BaseModel):
    """A service endpoint (DID Core §5.4)."""

    model_config = _MODEL_CONFIG

    id: str
    type: str | list[str]
    service_endpoint: str | dict[str, Any] | list[str | dict[str, Any]]


RelationshipEntry = str | VerificationMethod


class DIDDocument(BaseModel):
    """A DID document (DID Core §5)."""

    model_config = _MODEL_CONFIG

    context: str | list[str | dict[str, Any]] = Field(
        default=DID_CONTEXT_V1, alias="@context"
    )
    id: str
    controller: str | list[str] | None = None
    also_known_as: list[str] | None = None
    verification_method: list[VerificationMethod] | None = None
    authentication: list[RelationshipEntry] | None = None
    assertion_method: list[RelationshipEntry] | None = None
    key_agreement: list[RelationshipEntry] | None = None
    capability_invocation: list[RelationshipEntry] | None = None
    capability_delegation: list[RelationshipEntry] | None = None
    service: list[Service] | None = None

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return _check_did(value, "the document id")

    @field_validator("controller")
    @classmethod
    def _valid_controller(cls, value: str | list[str] | None) -> str | list[str] | None:
        for item in [value] if isinstance(value, str) else value or []:
            _check_did(item, "controller")
        return value

    @field_validator(
        "authentication",
        "assertion_method",
        "key_agreement",
        "capability_invocation",
        "capability_delegation",
    )
    @classmethod
    def _valid_references(
        cls, value: list[RelationshipEntry] | None
    ) -> list[RelationshipEntry] | None:
        for entry in value or []:
            if isinstance(entry, str):
                _check_reference(entry, "a verification relationship reference")
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        seen: set[str] = set()
        for method in self._all_methods():
            absolute = self.absolute_id(method.id)
            if absolute in seen:
                raise ValueError(f"duplicate verification method id {absolute!r}")
            seen.add(absolute)
        return self

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str | bytes) -> Self:
        """Validate a DID document from JSON text or an already parsed object.

        Raises:
            InvalidDIDDocumentError: not JSON, or not a valid DID document.
        """
        if isinstance(data, str | bytes):
            try:
                data = json.loads(data)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise InvalidDIDDocumentError("the DID document is not JSON") from exc
        if not isinstance(data, Mapping):
            raise InvalidDIDDocumentError("a DID document must be a JSON object")
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            first = exc.errors()[0]
            raise InvalidDIDDocumentError(
                "not a valid DID document",
                field=".".join(str(part) for part in first["loc"]) or "(document)",
            ) from exc

    def to_json(self) -> dict[str, Any]:
        """The document as a JSON object (JSON names, ``None`` members left out)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    @property
    def did(self) -> DID:
        """The document's ``id`` as a DID."""
        return DID.parse(self.id)

    def absolute_id(self, reference: str) -> str:
        """Resolve a relative ``#fragment`` reference against the document id."""
        return f"{self.id}{reference}" if reference.startswith("#") else reference

    def _all_methods(self) -> list[VerificationMethod]:
        methods = list(self.verification_method or [])
        for relationship in VERIFICATION_RELATIONSHIPS:
            methods.extend(
                entry
                for entry in self._entries(relationship)
                if isinstance(entry, VerificationMethod)
            )
        return methods

    def _entries(self, relationship: str) -> list[RelationshipEntry]:
        attribute = _ATTRIBUTE_BY_RELATIONSHIP.get(relationship)
        if attribute is None:
            raise ValueError(f"unknown verification relationship {relationship!r}")
        entries: list[RelationshipEntry] | None = getattr(self, attribute)
        return entries or []

    def find_verification_method(
        self,
        reference: str | DIDURL,
        *,
        relationship: VerificationRelationship | None = None,
    ) -> VerificationMethod:
        """Find a verification method by id (absolute DID URL or ``#fragment``).

        With ``relationship`` (e.g. ``"assertionMethod"``), the method must also be
        listed under that verification relationship, by reference or embedded.

        Raises:
            VerificationMethodNotFoundError: no such method, a method controlled by
                another DID's document, or one not listed under ``relationship``.
            ValueError: an unknown relationship name.
        """
        wanted = self.absolute_id(str(reference))
        if relationship is None:
            candidates = self._all_methods()
        else:
            candidates = []
            for entry in self._entries(relationship):
                if isinstance(entry, VerificationMethod):
                    candidates.append(entry)
                elif self.absolute_id(entry) == wanted:
                    candidates.extend(
                        method
                        for method in self.verification_method or []
                        if self.absolute_id(method.id) == wanted
                    )
        for method in candidates:
            if self.absolute_id(method.id) == wanted:
                return method
        context: dict[str, str] = {"id": wanted}
        if relationship is not None:
            context["relationship"] = relationship
        raise VerificationMethodNotFoundError(
            "no such verification method in the DID document"
            if relationship is None
            else "the verification method is not listed under that relationship",
            **context,
        )

    def methods_for(
        self, relationship: VerificationRelationship
    ) -> list[VerificationMethod]:
        """Every verification method listed under a relationship, references resolved.

        Raises:
            VerificationMethodNotFoundError: a reference points to no method here.
        """
        methods: list[VerificationMethod] = []
        for entry in self._entries(relationship):
            if isinstance(entry, VerificationMethod):
                methods.append(entry)
            else:
                methods.append(self.find_verification_method(entry))
        return methods
