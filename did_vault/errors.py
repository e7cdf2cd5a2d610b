"""Every error did_vault raises on purpose, each with a stable machine-readable code.

The tree (codes in brackets; every code is documented in ``specs/problems.md``)::

    DidVaultError                              [vault.error]
    ├── MalformedInputError                    [input.malformed]
    │   ├── InvalidDIDError                    [did.invalid]
    │   ├── InvalidDIDURLError                 [did.url-invalid]
    │   ├── InvalidDIDDocumentError            [did.document-invalid]
    │   ├── InvalidEncodingError               [encoding.invalid]
    │   ├── InvalidKeyError                    [key.invalid]
    │   ├── InvalidStatusEntryError            [status.entry-invalid]
    │   ├── InvalidDCQLQueryError              [dcql.invalid]
    │   ├── CanonicalizationError              [json.not-canonicalizable]
    │   ├── MalformedCredentialError           [credential.malformed]
    │   ├── MalformedProofError                [proof.malformed]
    │   ├── UnknownContextError                [context.unknown]
    │   ├── UndefinedTermError                 [context.term-undefined]
    │   ├── MalformedJWSError                  [jws.malformed]
    │   ├── MalformedSDJWTError                [sdjwt.malformed]
    │   ├── InvalidDisclosureError             [sdjwt.disclosure-invalid]
    │   ├── ReservedClaimNameError             [sdjwt.claim-name-reserved]
    │   └── SchemaViolationError               [item.schema-invalid]
    │       ├── ItemNotIdentifiableError       [item.not-identifiable]
    │       └── InvalidIdentifierError         [item.identifier-invalid]
    │           ├── InvalidGTINError           [item.gtin-invalid]
    │           ├── InvalidSerialError         [item.serial-invalid]
    │           ├── InvalidIMEIError           [item.imei-invalid]
    │           ├── InvalidVINError            [item.vin-invalid]
    │           └── InvalidDigitalLinkError    [item.digital-link-invalid]
    ├── UnsupportedError                       [input.unsupported]
    │   ├── UnsupportedDIDMethodError          [did.method-unsupported]
    │   ├── UnsupportedAlgorithmError          [key.algorithm-unsupported]
    │   ├── UnsupportedStatusError             [status.unsupported]
    │   ├── UnknownRequestTemplateError        [dcql.template-unknown]
    │   ├── UnsupportedCryptosuiteError        [proof.cryptosuite-unsupported]
    │   ├── UnsupportedJWSAlgorithmError       [jws.alg-unsupported]
    │   ├── UnsupportedCriticalHeaderError     [jws.crit-unsupported]
    │   └── UnsupportedDigestAlgorithmError    [sdjwt.alg-unsupported]
    ├── VerificationError                      [verification.failed]
    │   ├── InvalidSignatureError              [proof.signature-invalid]
    │   ├── CredentialRevokedError             [credential.revoked]
    │   ├── CredentialSuspendedError           [credential.suspended]
    │   ├── StatusListInvalidError             [status.list-invalid]
    │   │   ├── StatusListTooShortError        [status.list-too-short]
    │   │   ├── StatusListTooLargeError        [status.list-too-large]
    │   │   └── StatusListExpiredError         [status.list-expired]
    │   ├── StatusIndexOutOfRangeError         [status.index-out-of-range]
    │   ├── UnsatisfiableQueryError            [dcql.unsatisfiable]
    │   ├── TemplateExceededError              [dcql.exceeds-template]
    │   ├── StatusPurposeMismatchError         [status.purpose-mismatch]
    │   ├── ProofMissingError                  [proof.missing]
    │   ├── ProofVerificationError             [proof.verification-failed]
    │   ├── InvalidChallengeError              [proof.challenge-invalid]
    │   ├── InvalidDomainError                 [proof.domain-invalid]
    │   ├── ProofPurposeMismatchError          [proof.purpose-mismatch]
    │   ├── ProofRelationshipError             [proof.relationship-invalid]
    │   ├── ProofExpiredError                  [proof.expired]
    │   ├── IssuerMismatchError                [credential.issuer-mismatch]
    │   ├── HolderMismatchError                [presentation.holder-mismatch]
    │   ├── CredentialExpiredError             [credential.expired]
    │   ├── CredentialNotYetValidError         [credential.not-yet-valid]
    │   ├── StatusUncheckedError               [status.unchecked]
    │   ├── JWSAlgorithmMismatchError          [jws.alg-mismatch]
    │   ├── InvalidSDJWTTypeError              [sdjwt.typ-invalid]
    │   ├── DisclosureUnreferencedError        [sdjwt.disclosure-unreferenced]
    │   ├── DuplicateDigestError               [sdjwt.digest-duplicate]
    │   ├── ClaimCollisionError                [sdjwt.claim-collision]
    │   ├── RequiredClaimConcealedError        [sdjwt.required-claim-concealed]
    │   ├── KeyBindingMissingError             [sdjwt.kb-missing]
    │   ├── KeyBindingInvalidError             [sdjwt.kb-invalid]
    │   ├── KeyBindingStaleError               [sdjwt.kb-stale]
    │   ├── SDHashMismatchError                [sdjwt.sd-hash-mismatch]
    │   ├── InvalidNonceError                  [sdjwt.nonce-invalid]
    │   ├── NonceReplayedError                 [sdjwt.nonce-replayed]
    │   └── InvalidAudienceError               [sdjwt.audience-invalid]
    ├── ResolutionError                        [did.resolution-failed]
    │   ├── DIDNotFoundError                   [did.not-found]
    │   ├── ForbiddenHostError                 [did.host-forbidden]
    │   ├── ResponseTooLargeError              [did.response-too-large]
    │   ├── VerificationMethodNotFoundError    [did.verification-method-not-found]
    │   └── StatusUnavailableError             [status.unavailable]
    └── KeystoreError                          [keystore.error]
        ├── KeystoreUnlockError                [keystore.unlock-failed]
        ├── KeystoreLockedError                [keystore.locked]
        ├── KeystoreNotFoundError              [keystore.not-found]
        ├── KeystoreExistsError                [keystore.exists]
        ├── WeakKDFParametersError             [keystore.kdf-too-weak]
        ├── AliasExistsError                   [wallet.alias-exists]
        ├── AliasNotFoundError                 [wallet.alias-not-found]
        ├── CredentialNotFoundError            [wallet.credential-not-found]
        └── WalletItemNotFoundError            [wallet.item-not-found]

    MalformedInputError (import and export)
    └── InventoryImportError                   [import.invalid]
        ├── ImportEncodingError                [import.encoding-invalid]
        ├── ImportHeaderError                  [import.header-invalid]
        ├── ImportRowError                     [import.row-invalid]
        └── ImportMappingError                 [import.mapping-invalid]

    transparency log (did_vault.transparency)
    MalformedInputError
    ├── LogRangeError                          [log.range-invalid]
    ├── MalformedCheckpointError               [log.checkpoint-malformed]
    └── MalformedReceiptError                  [log.receipt-malformed]
    VerificationError
    ├── LogProofError                          [log.proof-invalid]
    ├── LogRollbackError                       [log.rollback]
    ├── LogForkError                           [log.fork]
    ├── LogOriginMismatchError                 [log.origin-mismatch]
    ├── UntrustedCheckpointError               [log.checkpoint-untrusted]
    ├── OpeningMismatchError                   [log.opening-invalid]
    ├── CheckpointTimeMissingError             [log.time-missing]
    ├── RegisteredTooLateError                 [log.registered-too-late]
    ├── InsufficientWitnessesError             [log.witnesses-insufficient]
    ├── CheckpointMismatchError                [log.checkpoint-mismatch]
    └── InvalidSignatureError
        └── CheckpointSignatureError           [log.signature-invalid]

Caller mistakes (wrong type, missing argument) stay ``TypeError``/``ValueError``,
outside this tree. The ``context`` of an error is JSON-safe and never holds a secret:
no key material, passphrase or plaintext ever goes into an error.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar


class DidVaultError(Exception):
    """Base of every error did_vault raises on purpose."""

    code: ClassVar[str] = "vault.error"
    title: ClassVar[str] = "Wallet error"

    def __init__(self, detail: str, **context: str | int) -> None:
        super().__init__(detail)
        self.detail, self.context = detail, context  # context: JSON-safe, never secrets

    def to_dict(self) -> dict[str, object]:
        """The error as a JSON-safe problem body (RFC 9457 members plus ``code``)."""
        body: dict[str, object] = {
            "code": self.code,
            "title": self.title,
            "detail": self.detail,
        }
        if self.context:
            body["context"] = dict(self.context)
        return body


# --- malformed input: the caller sent something that cannot be right -------------


class MalformedInputError(DidVaultError):
    code = "input.malformed"
    title = "Malformed input"


class InvalidDIDError(MalformedInputError):
    code = "did.invalid"
    title = "Invalid DID"


class InvalidDIDURLError(MalformedInputError):
    code = "did.url-invalid"
    title = "Invalid DID URL"


class InvalidDIDDocumentError(MalformedInputError):
    code = "did.document-invalid"
    title = "Invalid DID document"


class InvalidEncodingError(MalformedInputError):
    code = "encoding.invalid"
    title = "Invalid encoding"


class InvalidKeyError(MalformedInputError):
    code = "key.invalid"
    title = "Invalid key"


# --- well-formed but not supported here -------------------------------------------


class UnsupportedError(DidVaultError):
    code = "input.unsupported"
    title = "Unsupported input"


class UnsupportedDIDMethodError(UnsupportedError):
    code = "did.method-unsupported"
    title = "Unsupported DID method"


class UnsupportedAlgorithmError(UnsupportedError):
    code = "key.algorithm-unsupported"
    title = "Unsupported key algorithm"


# --- checked, and the answer is no ------------------------------------------------


class VerificationError(DidVaultError):
    code = "verification.failed"
    title = "Verification failed"


class InvalidSignatureError(VerificationError):
    code = "proof.signature-invalid"
    title = "Invalid signature"


# --- could not check: the input may be fine ---------------------------------------


class ResolutionError(DidVaultError):
    code = "did.resolution-failed"
    title = "DID resolution failed"


class DIDNotFoundError(ResolutionError):
    code = "did.not-found"
    title = "DID not found"


class ForbiddenHostError(ResolutionError):
    code = "did.host-forbidden"
    title = "Host refused"


class ResponseTooLargeError(ResolutionError):
    code = "did.response-too-large"
    title = "Response too large"


class VerificationMethodNotFoundError(ResolutionError):
    code = "did.verification-method-not-found"
    title = "Verification method not found"


# --- status lists -----------------------------------------------------------------


class InvalidStatusEntryError(MalformedInputError):
    code = "status.entry-invalid"
    title = "Invalid status entry"


class UnsupportedStatusError(UnsupportedError):
    code = "status.unsupported"
    title = "Unsupported status mechanism"


class CredentialRevokedError(VerificationError):
    code = "credential.revoked"
    title = "Credential revoked"


class CredentialSuspendedError(VerificationError):
    code = "credential.suspended"
    title = "Credential suspended"


class StatusListInvalidError(VerificationError):
    code = "status.list-invalid"
    title = "Invalid status list"


class StatusListTooShortError(StatusListInvalidError):
    code = "status.list-too-short"
    title = "Status list too short"


class StatusListTooLargeError(StatusListInvalidError):
    code = "status.list-too-large"
    title = "Status list too large"


class StatusListExpiredError(StatusListInvalidError):
    code = "status.list-expired"
    title = "Status list expired"


class StatusIndexOutOfRangeError(VerificationError):
    code = "status.index-out-of-range"
    title = "Status index out of range"


class StatusPurposeMismatchError(VerificationError):
    code = "status.purpose-mismatch"
    title = "Status purpose mismatch"


class StatusUnavailableError(ResolutionError):
    code = "status.unavailable"
    title = "Status list unavailable"


# --- credentials and Data Integrity -----------------------------------------------


class CanonicalizationError(MalformedInputError):
    code = "json.not-canonicalizable"
    title = "JSON value cannot be canonicalized"


class MalformedCredentialError(MalformedInputError):
    code = "credential.malformed"
    title = "Malformed credential"


class MalformedProofError(MalformedInputError):
    code = "proof.malformed"
    title = "Malformed proof"


class UnknownContextError(MalformedInputError):
    code = "context.unknown"
    title = "Unknown JSON-LD context"


class UndefinedTermError(MalformedInputError):
    code = "context.term-undefined"
    title = "Term not defined by the contexts"


class UnsupportedCryptosuiteError(UnsupportedError):
    code = "proof.cryptosuite-unsupported"
    title = "Unsupported cryptosuite"


class ProofMissingError(VerificationError):
    code = "proof.missing"
    title = "No proof"


class ProofVerificationError(VerificationError):
    code = "proof.verification-failed"
    title = "Proof verification failed"


class InvalidChallengeError(VerificationError):
    code = "proof.challenge-invalid"
    title = "Invalid challenge"


class InvalidDomainError(VerificationError):
    code = "proof.domain-invalid"
    title = "Invalid domain"


class ProofPurposeMismatchError(VerificationError):
    code = "proof.purpose-mismatch"
    title = "Wrong proof purpose"


class ProofRelationshipError(VerificationError):
    code = "proof.relationship-invalid"
    title = "Verification method not authorized for this purpose"


class ProofExpiredError(VerificationError):
    code = "proof.expired"
    title = "Proof expired"


class IssuerMismatchError(VerificationError):
    code = "credential.issuer-mismatch"
    title = "Issuer is not the signer"


class HolderMismatchError(VerificationError):
    code = "presentation.holder-mismatch"
    title = "Holder is not the signer"


class CredentialExpiredError(VerificationError):
    code = "credential.expired"
    title = "Credential expired"


class CredentialNotYetValidError(VerificationError):
    code = "credential.not-yet-valid"
    title = "Credential not yet valid"


class StatusUncheckedError(VerificationError):
    code = "status.unchecked"
    title = "Credential status not checked"


# --- presentation requests (DCQL) ---------------------------------------------------


class InvalidDCQLQueryError(MalformedInputError):
    code = "dcql.invalid"
    title = "Invalid DCQL query"


class UnknownRequestTemplateError(UnsupportedError):
    code = "dcql.template-unknown"
    title = "Unknown request template"


class UnsatisfiableQueryError(VerificationError):
    """The wallet holds no credential (or combination) that answers the query."""

    code = "dcql.unsatisfiable"
    title = "Query cannot be satisfied"


class TemplateExceededError(VerificationError):
    """A request names a template but asks for more than that template allows."""

    code = "dcql.exceeds-template"
    title = "Request asks for more than its template"


# --- SD-JWT ---------------------------------------------------------------------


class MalformedJWSError(MalformedInputError):
    code = "jws.malformed"
    title = "Malformed JWS"


class MalformedSDJWTError(MalformedInputError):
    code = "sdjwt.malformed"
    title = "Malformed SD-JWT"


class InvalidDisclosureError(MalformedInputError):
    code = "sdjwt.disclosure-invalid"
    title = "Invalid disclosure"


class ReservedClaimNameError(MalformedInputError):
    code = "sdjwt.claim-name-reserved"
    title = "Reserved claim name"


class UnsupportedJWSAlgorithmError(UnsupportedError):
    code = "jws.alg-unsupported"
    title = "Unsupported JWS algorithm"


class UnsupportedCriticalHeaderError(UnsupportedError):
    code = "jws.crit-unsupported"
    title = "Critical JWS header not supported"


class UnsupportedDigestAlgorithmError(UnsupportedError):
    code = "sdjwt.alg-unsupported"
    title = "Unsupported disclosure digest algorithm"


class JWSAlgorithmMismatchError(VerificationError):
    code = "jws.alg-mismatch"
    title = "JWS algorithm does not match the key"


class InvalidSDJWTTypeError(VerificationError):
    code = "sdjwt.typ-invalid"
    title = "Wrong SD-JWT type"


class DisclosureUnreferencedError(VerificationError):
    code = "sdjwt.disclosure-unreferenced"
    title = "Disclosure not referenced"


class DuplicateDigestError(VerificationError):
    code = "sdjwt.digest-duplicate"
    title = "Digest used more than once"


class ClaimCollisionError(VerificationError):
    code = "sdjwt.claim-collision"
    title = "Disclosed claim name collides"


class RequiredClaimConcealedError(VerificationError):
    code = "sdjwt.required-claim-concealed"
    title = "Claim that must be in the clear was concealed"


class KeyBindingMissingError(VerificationError):
    code = "sdjwt.kb-missing"
    title = "Key binding missing"


class KeyBindingInvalidError(VerificationError):
    code = "sdjwt.kb-invalid"
    title = "Invalid key binding"


class KeyBindingStaleError(VerificationError):
    code = "sdjwt.kb-stale"
    title = "Key binding not fresh"


class SDHashMismatchError(VerificationError):
    code = "sdjwt.sd-hash-mismatch"
    title = "sd_hash does not match the presentation"


class InvalidNonceError(VerificationError):
    code = "sdjwt.nonce-invalid"
    title = "Invalid nonce"


class NonceReplayedError(VerificationError):
    code = "sdjwt.nonce-replayed"
    title = "Nonce already used"


class InvalidAudienceError(VerificationError):
    code = "sdjwt.audience-invalid"
    title = "Invalid audience"


# --- items and the standard schema ---------------------------------------------


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    """One broken rule of the standard item schema (``specs/schemas``)."""

    pointer: str  # RFC 6901 JSON pointer of the offending field in the document
    rule: str  # the JSON Schema keyword ("required", "pattern", …) or named check
    code: str  # the most specific error code for it, e.g. "item.gtin-invalid"
    message: str

    def to_dict(self) -> dict[str, str]:
        """The violation as JSON."""
        return {
            "pointer": self.pointer,
            "rule": self.rule,
            "code": self.code,
            "message": self.message,
        }


class SchemaViolationError(MalformedInputError):
    """A document breaks the standard item schema.

    ``context`` names the first violation (``pointer``, ``rule``); ``violations``
    holds every one found.
    """

    code = "item.schema-invalid"
    title = "Schema violation"

    def __init__(
        self,
        detail: str,
        *,
        violations: Sequence[SchemaViolation] = (),
        **context: str | int,
    ) -> None:
        super().__init__(detail, **context)
        self.violations = tuple(violations)

    def to_dict(self) -> dict[str, object]:
        """The problem body, with every violation under ``violations``."""
        body = super().to_dict()
        if self.violations:
            body["violations"] = [v.to_dict() for v in self.violations]
        return body


class ItemNotIdentifiableError(SchemaViolationError):
    code = "item.not-identifiable"
    title = "Item cannot be told apart"


class InvalidIdentifierError(SchemaViolationError):
    code = "item.identifier-invalid"
    title = "Invalid item identifier"


class InvalidGTINError(InvalidIdentifierError):
    code = "item.gtin-invalid"
    title = "Invalid GTIN"


class InvalidSerialError(InvalidIdentifierError):
    code = "item.serial-invalid"
    title = "Invalid serial number"


class InvalidIMEIError(InvalidIdentifierError):
    code = "item.imei-invalid"
    title = "Invalid IMEI"


class InvalidVINError(InvalidIdentifierError):
    code = "item.vin-invalid"
    title = "Invalid VIN"


class InvalidDigitalLinkError(InvalidIdentifierError):
    code = "item.digital-link-invalid"
    title = "Invalid GS1 Digital Link"


# --- the owner's encrypted wallet -------------------------------------------------


class KeystoreError(DidVaultError):
    code = "keystore.error"
    title = "Wallet storage error"


class KeystoreUnlockError(KeystoreError):
    """Wrong passphrase or a damaged file: deliberately one error, no reason given."""

    code = "keystore.unlock-failed"
    title = "Wallet could not be unlocked"


class KeystoreLockedError(KeystoreError):
    code = "keystore.locked"
    title = "Wallet in use"


class KeystoreNotFoundError(KeystoreError):
    code = "keystore.not-found"
    title = "No wallet"


class KeystoreExistsError(KeystoreError):
    code = "keystore.exists"
    title = "Wallet already exists"


class WeakKDFParametersError(KeystoreError):
    code = "keystore.kdf-too-weak"
    title = "Key derivation too weak"


class AliasExistsError(KeystoreError):
    code = "wallet.alias-exists"
    title = "Alias already in use"


class AliasNotFoundError(KeystoreError):
    code = "wallet.alias-not-found"
    title = "No such alias"


class CredentialNotFoundError(KeystoreError):
    code = "wallet.credential-not-found"
    title = "No such credential"


# --- import and export ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One problem found in a file to import (``did_vault.items.importing``)."""

    row: int | None  # the record's number, the header being row 1; None: the file
    line: int | None  # the physical line the record starts on (quoted newlines)
    column: str | None  # the header of the offending cell, when one is to blame
    pointer: str  # RFC 6901 pointer into the row's inventory entry ("" if none)
    rule: str  # the JSON Schema keyword, named check or import rule broken
    code: str  # e.g. "item.gtin-invalid", "import.row-invalid"
    message: str

    def to_dict(self) -> dict[str, str | int | None]:
        """The problem as JSON."""
        return {
            "row": self.row,
            "line": self.line,
            "column": self.column,
            "pointer": self.pointer,
            "rule": self.rule,
            "code": self.code,
            "message": self.message,
        }


class InventoryImportError(MalformedInputError):
    """A file to import has problems; nothing was imported.

    ``problems`` holds every one found, row by row (the whole file is checked
    before anything is written).
    """

    code = "import.invalid"
    title = "Import file rejected"

    def __init__(
        self,
        detail: str,
        *,
        problems: Sequence[ImportProblem] = (),
        **context: str | int,
    ) -> None:
        super().__init__(detail, **context)
        self.problems = tuple(problems)

    def to_dict(self) -> dict[str, object]:
        """The problem body, with every problem under ``problems``."""
        body = super().to_dict()
        if self.problems:
            body["problems"] = [p.to_dict() for p in self.problems]
        return body


class ImportEncodingError(InventoryImportError):
    code = "import.encoding-invalid"
    title = "Import file not in the expected encoding"


class ImportHeaderError(InventoryImportError):
    code = "import.header-invalid"
    title = "Import file header invalid"


class ImportRowError(InventoryImportError):
    code = "import.row-invalid"
    title = "Import row invalid"


class ImportMappingError(InventoryImportError):
    code = "import.mapping-invalid"
    title = "Column mapping invalid"


class WalletItemNotFoundError(KeystoreError):
    code = "wallet.item-not-found"
    title = "No such item"


# --- transparency log -------------------------------------------------------------


class LogRangeError(MalformedInputError):
    """A leaf index or tree size outside the log (or an old size above a new one)."""

    code = "log.range-invalid"
    title = "Outside the log"


class MalformedCheckpointError(MalformedInputError):
    code = "log.checkpoint-malformed"
    title = "Malformed checkpoint"


class MalformedReceiptError(MalformedInputError):
    code = "log.receipt-malformed"
    title = "Malformed log receipt"


class LogProofError(VerificationError):
    """An inclusion or consistency proof does not verify (``context["kind"]``)."""

    code = "log.proof-invalid"
    title = "Log proof does not verify"


class LogRollbackError(VerificationError):
    """A newer checkpoint has a smaller tree than one seen before."""

    code = "log.rollback"
    title = "Log rolled back"


class LogForkError(VerificationError):
    """Two signed views of the log that cannot both be true (a split view)."""

    code = "log.fork"
    title = "Log forked"


class LogOriginMismatchError(VerificationError):
    code = "log.origin-mismatch"
    title = "Checkpoints of different logs"


class UntrustedCheckpointError(VerificationError):
    """No signature by a known log key verifies on the checkpoint."""

    code = "log.checkpoint-untrusted"
    title = "Checkpoint not signed by a known key"


class CheckpointSignatureError(InvalidSignatureError):
    """A signature line of a known key (log or witness) does not verify."""

    code = "log.signature-invalid"
    title = "Invalid checkpoint signature"


class OpeningMismatchError(VerificationError):
    """The opening (salt and event) does not open the committed log leaf."""

    code = "log.opening-invalid"
    title = "Opening does not match the commitment"


class CheckpointTimeMissingError(VerificationError):
    """A time check needs a verified timestamped signature and there is none."""

    code = "log.time-missing"
    title = "Checkpoint has no trusted time"


class RegisteredTooLateError(VerificationError):
    """The receipt's checkpoint is not older than the deadline."""

    code = "log.registered-too-late"
    title = "Not registered before the deadline"


class InsufficientWitnessesError(VerificationError):
    """Fewer trusted witnesses than required cosigned the checkpoint before the
    deadline (none at all, only later, or only keys the verifier does not trust)."""

    code = "log.witnesses-insufficient"
    title = "Too few witnesses vouch for the time"


class CheckpointMismatchError(VerificationError):
    """A note offered in place of a receipt's checkpoint is of another tree size."""

    code = "log.checkpoint-mismatch"
    title = "Not the receipt's checkpoint"
