"""Every error the registry raises on purpose, each with a stable code.

The registry's tree hangs off did_vault's ``DidVaultError`` so that one exception
handler (``registry.problems``) answers every domain error with the same problem
shape. HTTP statuses live only in ``registry.problems.STATUS_BY_ERROR``; the exit
code is for the ``registry`` command. Every code is listed in ``specs/problems.md``
under ``## registry``::

    RegistryError                              [registry.error]
    ├── ConfigurationError                     [config.invalid]
    ├── DatabaseUnavailableError               [db.unreachable]
    │   └── DatabaseNotMigratedError           [db.not-migrated]
    ├── RequestInvalidError                    [request.invalid]
    ├── RequestTooLargeError                   [request.too-large]
    ├── RouteNotFoundError                     [request.not-found]
    ├── MethodNotAllowedError                  [request.method-not-allowed]
    ├── NotFoundError                          [item.not-found]
    ├── LogCheckpointNotFoundError             [log.checkpoint-not-found]
    ├── LogCorruptError                        [log.corrupt]
    ├── WitnessStateError                      [witness.state-invalid]
    ├── LogCheckpointUnknownError              [log.checkpoint-unknown]
    ├── WitnessUntrustedError                  [witness.untrusted]
    ├── WitnessTimeInvalidError                [witness.time-invalid]
    ├── WitnessExistsError                     [witness.exists]
    ├── WitnessNotFoundError                   [witness.not-found]
    ├── AuthenticationError                    [auth.failed]
    │   ├── AuthRequiredError                  [auth.required]
    │   ├── ChallengeUnknownError              [auth.challenge-unknown]
    │   ├── ChallengeExpiredError              [auth.challenge-expired]
    │   ├── ChallengeReplayedError             [auth.challenge-replayed]
    │   ├── AudienceInvalidError               [auth.audience-invalid]
    │   ├── RelationshipInvalidError           [auth.relationship-invalid]
    │   ├── AuthProofInvalidError              [auth.proof-invalid]
    │   ├── TokenInvalidError                  [auth.token-invalid]
    │   └── TokenExpiredError                  [auth.token-expired]
    ├── ForbiddenError                         [auth.forbidden]
    ├── TrustEntryInvalidError                 [trust.invalid]
    ├── TrustEntryExistsError                  [trust.exists]
    ├── TrustEntryNotFoundError                [trust.not-found]
    ├── IssuerUnknownError                     [vcapi.issuer-unknown]
    ├── ItemAlreadyRegisteredError             [item.already-registered]
    ├── RegistrationRefusedError               [item.registration-refused]
    │   ├── IssuerUntrustedError               [issuer.untrusted]
    │   ├── IssuerBrandMismatchError           [issuer.brand-mismatch]
    │   ├── CredentialTypeUnsupportedError     [item.credential-unsupported]
    │   └── HolderKeyMismatchError             [item.holder-mismatch]
    ├── OwnershipNotFoundError                 [ownership.not-found]
    ├── StatusListNotFoundError                [status.list-not-found]
    ├── TransferRefusedError                   [transfer.refused]
    │   ├── TransferExpiredError               [transfer.expired]
    │   ├── TransferSelfError                  [transfer.self]
    │   └── TransferMismatchError              [transfer.mismatch]
    ├── TransferConflictError                  [transfer.conflict]
    │   ├── TransferReplayedError              [transfer.replayed]
    │   ├── TransferNotOwnerError              [transfer.not-owner]
    │   ├── ItemAlreadyTransferredError        [item.already-transferred]
    │   └── ItemReportedError                  [item.reported]
    │       ├── ItemReportedMissingError       [item.reported-missing]
    │       └── ItemReportedStolenError        [item.reported-stolen]
    ├── OfferNotFoundError                     [transfer.offer-not-found]
    ├── ClaimCodeInvalidError                  [transfer.claim-code-invalid]
    ├── ReportStateError                       [report.state-invalid]
    │   └── ReportStaleError                   [report.stale]
    ├── ReportMismatchError                    [report.mismatch]
    ├── ReportIssuerUntrustedError             [report.issuer-untrusted]
    ├── CustodyStateError                      [custody.state-invalid]
    ├── ConsentRequiredError                   [consent.required]
    ├── RateLimitedError                       [rate.limited]
    ├── IdempotencyMismatchError               [idempotency.mismatch]
    ├── IdempotencyInFlightError               [idempotency.in-flight]
    ├── PreconditionFailedError                [precondition.failed]
    └── PreconditionRequiredError              [precondition.required]
"""

from typing import ClassVar

from did_vault import DidVaultError


class RegistryError(DidVaultError):
    """Base of every error the registry raises on purpose."""

    code: ClassVar[str] = "registry.error"
    title: ClassVar[str] = "Registry error"
    exit_code: ClassVar[int] = 70


# --- operating the service --------------------------------------------------------


class ConfigurationError(RegistryError):
    code = "config.invalid"
    title = "Invalid configuration"
    exit_code = 78


class DatabaseUnavailableError(RegistryError):
    code = "db.unreachable"
    title = "Database unavailable"
    exit_code = 69


class DatabaseNotMigratedError(DatabaseUnavailableError):
    code = "db.not-migrated"
    title = "Database not migrated"
    exit_code = 69


# --- the request itself -----------------------------------------------------------


class RequestInvalidError(RegistryError):
    code = "request.invalid"
    title = "Invalid request"
    exit_code = 65


class RequestTooLargeError(RegistryError):
    code = "request.too-large"
    title = "Request too large"
    exit_code = 65


class RouteNotFoundError(RegistryError):
    code = "request.not-found"
    title = "No such resource"
    exit_code = 65


class MethodNotAllowedError(RegistryError):
    code = "request.method-not-allowed"
    title = "Method not allowed"
    exit_code = 65


class NotFoundError(RegistryError):
    code = "item.not-found"
    title = "Item not found"
    exit_code = 65


# --- the transparency log ---------------------------------------------------------


class LogCheckpointNotFoundError(RegistryError):
    code = "log.checkpoint-not-found"
    title = "Checkpoint not found"
    exit_code = 65


class LogCorruptError(RegistryError):
    """The stored log disagrees with itself or with a signed checkpoint."""

    code = "log.corrupt"
    title = "Transparency log corrupt"
    exit_code = 65


class WitnessStateError(RegistryError):
    """A witness's state file cannot be read, or is not a state it wrote."""

    code = "witness.state-invalid"
    title = "Witness state unreadable"
    exit_code = 65


class LogCheckpointUnknownError(RegistryError):
    """A note signed with the registry's key whose checkpoint is not the one the
    registry stored for that tree size (another origin or root)."""

    code = "log.checkpoint-unknown"
    title = "Checkpoint not signed by this registry"
    exit_code = 65


class WitnessUntrustedError(RegistryError):
    """A submitted note carries no cosignature by a witness the registry trusts."""

    code = "witness.untrusted"
    title = "No trusted witness cosignature"
    exit_code = 65


class WitnessTimeInvalidError(RegistryError):
    """A trusted witness's cosignature states a time before the checkpoint was
    signed or after now, beyond the allowed clock skew."""

    code = "witness.time-invalid"
    title = "Cosignature time out of bounds"
    exit_code = 65


class WitnessExistsError(RegistryError):
    code = "witness.exists"
    title = "Witness already trusted"
    exit_code = 65


class WitnessNotFoundError(RegistryError):
    code = "witness.not-found"
    title = "Witness not found"
    exit_code = 65


# --- DID authentication -----------------------------------------------------------


class AuthenticationError(RegistryError):
    code = "auth.failed"
    title = "Authentication failed"
    exit_code = 77


class AuthRequiredError(AuthenticationError):
    code = "auth.required"
    title = "Authentication required"


class ChallengeUnknownError(AuthenticationError):
    code = "auth.challenge-unknown"
    title = "Unknown challenge"


class ChallengeExpiredError(AuthenticationError):
    code = "auth.challenge-expired"
    title = "Challenge expired"


class ChallengeReplayedError(AuthenticationError):
    code = "auth.challenge-replayed"
    title = "Challenge already used"


class AudienceInvalidError(AuthenticationError):
    code = "auth.audience-invalid"
    title = "Wrong audience"


class RelationshipInvalidError(AuthenticationError):
    code = "auth.relationship-invalid"
    title = "Key not authorized for authentication"


class AuthProofInvalidError(AuthenticationError):
    code = "auth.proof-invalid"
    title = "Invalid authentication proof"


class TokenInvalidError(AuthenticationError):
    code = "auth.token-invalid"
    title = "Invalid access token"


class TokenExpiredError(AuthenticationError):
    code = "auth.token-expired"
    title = "Access token expired"


class ForbiddenError(RegistryError):
    code = "auth.forbidden"
    title = "Not permitted"
    exit_code = 77


# --- trust list -------------------------------------------------------------------


class TrustEntryInvalidError(RegistryError):
    code = "trust.invalid"
    title = "Invalid trust entry"
    exit_code = 65


class TrustEntryExistsError(RegistryError):
    code = "trust.exists"
    title = "Trust entry exists"
    exit_code = 65


class TrustEntryNotFoundError(RegistryError):
    code = "trust.not-found"
    title = "Trust entry not found"
    exit_code = 65


# --- VC-API -----------------------------------------------------------------------


class IssuerUnknownError(RegistryError):
    code = "vcapi.issuer-unknown"
    title = "Unknown issuer"
    exit_code = 65


# --- items, ownership and status lists --------------------------------------------


class ItemAlreadyRegisteredError(RegistryError):
    code = "item.already-registered"
    title = "Item already registered"
    exit_code = 65


class RegistrationRefusedError(RegistryError):
    """A well-formed, verified submission the registry will not record."""

    code = "item.registration-refused"
    title = "Registration refused"
    exit_code = 65


class IssuerUntrustedError(RegistrationRefusedError):
    code = "issuer.untrusted"
    title = "Issuer not trusted"


class IssuerBrandMismatchError(RegistrationRefusedError):
    code = "issuer.brand-mismatch"
    title = "Issuer not trusted for this brand"


class CredentialTypeUnsupportedError(RegistrationRefusedError):
    code = "item.credential-unsupported"
    title = "Credential type not accepted for registration"


class HolderKeyMismatchError(RegistrationRefusedError):
    code = "item.holder-mismatch"
    title = "Credential bound to another holder"


class OwnershipNotFoundError(RegistryError):
    code = "ownership.not-found"
    title = "Ownership not found"
    exit_code = 65


class StatusListNotFoundError(RegistryError):
    code = "status.list-not-found"
    title = "Status list not found"
    exit_code = 65


# --- lifecycle: transfers, custody, missing and stolen, verification -------------


class TransferRefusedError(RegistryError):
    """A transfer the registry will not record (the request itself is well formed)."""

    code = "transfer.refused"
    title = "Transfer refused"
    exit_code = 65


class TransferExpiredError(TransferRefusedError):
    code = "transfer.expired"
    title = "Transfer offer expired"


class TransferSelfError(TransferRefusedError):
    code = "transfer.self"
    title = "Seller and buyer are the same"


class TransferMismatchError(TransferRefusedError):
    code = "transfer.mismatch"
    title = "Acceptance does not match the offer"


class TransferConflictError(RegistryError):
    """The item's state does not allow the transfer (409 family)."""

    code = "transfer.conflict"
    title = "Transfer conflict"
    exit_code = 65


class TransferReplayedError(TransferConflictError):
    code = "transfer.replayed"
    title = "Transfer offer replayed"


class TransferNotOwnerError(TransferConflictError):
    code = "transfer.not-owner"
    title = "Seller is not the current owner"


class ItemAlreadyTransferredError(TransferConflictError):
    code = "item.already-transferred"
    title = "Item already transferred"


class ItemReportedError(TransferConflictError):
    """The item is reported missing or stolen."""

    code = "item.reported"
    title = "Item reported missing or stolen"


class ItemReportedMissingError(ItemReportedError):
    code = "item.reported-missing"
    title = "Item reported missing"


class ItemReportedStolenError(ItemReportedError):
    code = "item.reported-stolen"
    title = "Item reported stolen"


class OfferNotFoundError(RegistryError):
    code = "transfer.offer-not-found"
    title = "Transfer offer not found"
    exit_code = 65


class ClaimCodeInvalidError(RegistryError):
    """The claim code does not open this offer (missing, mistyped, or another)."""

    code = "transfer.claim-code-invalid"
    title = "Claim code does not match the offer"
    exit_code = 77


class ReportStateError(RegistryError):
    code = "report.state-invalid"
    title = "Report not possible in this state"
    exit_code = 65


class ReportStaleError(ReportStateError):
    """A signed stolen report that predates the item's last change (a replay)."""

    code = "report.stale"
    title = "Stolen report older than the item's state"


class ReportMismatchError(RegistryError):
    """A signed stolen report that is not one the registry can apply."""

    code = "report.mismatch"
    title = "Not an applicable stolen report"
    exit_code = 65


class ReportIssuerUntrustedError(RegistryError):
    code = "report.issuer-untrusted"
    title = "Stolen report issuer not a trusted confirmer"
    exit_code = 65


class CustodyStateError(RegistryError):
    code = "custody.state-invalid"
    title = "Custody change not possible in this state"
    exit_code = 65


class ConsentRequiredError(RegistryError):
    code = "consent.required"
    title = "Owner consent required"
    exit_code = 77


class RateLimitedError(RegistryError):
    code = "rate.limited"
    title = "Too many requests"
    exit_code = 75

    def __init__(self, detail: str, *, retry_after: int, **context: str | int) -> None:
        super().__init__(detail, **context)
        self.retry_after = retry_after


class IdempotencyMismatchError(RegistryError):
    code = "idempotency.mismatch"
    title = "Idempotency key reused with another request"
    exit_code = 65


class IdempotencyInFlightError(RegistryError):
    code = "idempotency.in-flight"
    title = "Request with this idempotency key in flight"
    exit_code = 75


class PreconditionFailedError(RegistryError):
    code = "precondition.failed"
    title = "Precondition failed"
    exit_code = 65


class PreconditionRequiredError(RegistryError):
    code = "precondition.required"
    title = "Precondition required"
    exit_code = 65
