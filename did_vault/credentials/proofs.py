"""Data Integrity proofs (W3C VC Data Integrity 1.0, https://www.w3.org/TR/vc-data-integrity/).

One ``DataIntegrityProof`` is made and checked with the algorithms of its cryptosuite
(vc-di-eddsa / vc-di-ecdsa): the proof configuration is the proof without
``proofValue`` (plus, for RDFC suites, the document's ``@context``); the signed bytes
are ``SHA-256(canonical proof configuration) || SHA-256(canonical document)``; the
``proofValue`` is the signature in multibase base58btc.

``add_proof`` and ``verify_proofs`` implement proof sets and ``previousProof`` chains
(§4.4 / §4.5): a chained proof signs the document together with the proofs it names.
Verification also binds the key to its purpose: the verification method must be
listed under the proof purpose's relationship (``assertionMethod``,
``authentication``) in its controller's DID document.
"""

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, Protocol

from did_vault.credentials.model import format_date_time_stamp, parse_date_time_stamp
from did_vault.credentials.suites import EDDSA_JCS_2022, Cryptosuite, get_cryptosuite
from did_vault.dids.did import DIDURL
from did_vault.dids.document import DIDDocument
from did_vault.errors import (
    InvalidChallengeError,
    InvalidDIDURLError,
    InvalidDomainError,
    InvalidSignatureError,
    MalformedProofError,
    ProofExpiredError,
    ProofMissingError,
    ProofPurposeMismatchError,
    ProofRelationshipError,
    ProofVerificationError,
    UnsupportedCryptosuiteError,
    VerificationMethodNotFoundError,
)
from did_vault.keys import PrivateKey, PublicKey
from did_vault.primitives.multikey import BASE58BTC_PREFIX

DATA_INTEGRITY_PROOF = "DataIntegrityProof"
CONTEXT_KEY = "@context"
PROOF_KEY = "proof"
PROOF_VALUE_KEY = "proofValue"
ASSERTION_METHOD: Final = "assertionMethod"
AUTHENTICATION: Final = "authentication"
DEFAULT_LEEWAY = timedelta(minutes=5)

ProofPurpose = Literal["assertionMethod", "authentication"]


class DIDDocumentResolver(Protocol):
    """Anything that resolves a DID to its DID document (``Resolver`` does)."""

    def resolve(self, did: str, /) -> DIDDocument: ...


@dataclass(frozen=True, slots=True)
class VerifiedProof:
    """A proof that verified, and what it established."""

    proof: Mapping[str, Any]
    cryptosuite: str
    verification_method: str
    controller: str
    proof_purpose: str
    created: datetime | None


# --- creating ----------------------------------------------------------------------


def create_proof(
    document: Mapping[str, Any],
    *,
    key: PrivateKey,
    verification_method: str,
    proof_purpose: ProofPurpose = ASSERTION_METHOD,
    cryptosuite: str = EDDSA_JCS_2022,
    created: datetime | None = None,
    expires: datetime | None = None,
    challenge: str | None = None,
    domain: str | None = None,
    proof_id: str | None = None,
    previous_proof: str | Sequence[str] | None = None,
) -> dict[str, Any]:
    """Make one Data Integrity proof over ``document`` (not attached to it).

    ``document`` is signed as given: any ``proof`` member in it is signed too (which
    is how ``add_proof`` chains proofs). ``created`` defaults to the current time.

    Raises:
        UnsupportedCryptosuiteError: an unknown cryptosuite.
        ValueError: the key's algorithm is not the cryptosuite's, or a naive datetime.
        CanonicalizationError: the document has no canonical form.
    """
    suite = get_cryptosuite(cryptosuite)
    if key.algorithm is not suite.key_algorithm:
        raise ValueError(
            f"{suite.name} signs with {suite.key_algorithm.value} keys, "
            f"not {key.algorithm.value}"
        )
    proof: dict[str, Any] = {"type": DATA_INTEGRITY_PROOF, "cryptosuite": suite.name}
    if proof_id is not None:
        proof["id"] = proof_id
    proof["created"] = format_date_time_stamp(created or datetime.now(UTC))
    if expires is not None:
        proof["expires"] = format_date_time_stamp(expires)
    proof["verificationMethod"] = verification_method
    proof["proofPurpose"] = proof_purpose
    if challenge is not None:
        proof["challenge"] = challenge
    if domain is not None:
        proof["domain"] = domain
    if previous_proof is not None:
        proof["previousProof"] = (
            previous_proof if isinstance(previous_proof, str) else list(previous_proof)
        )
    if suite.embeds_context and CONTEXT_KEY in document:
        proof[CONTEXT_KEY] = document[CONTEXT_KEY]
    signature = key.sign(hash_data(document, proof, suite))
    proof[PROOF_VALUE_KEY] = _encode_signature(signature)
    return proof


def add_proof(
    document: Mapping[str, Any],
    *,
    key: PrivateKey,
    verification_method: str,
    proof_purpose: ProofPurpose = ASSERTION_METHOD,
    cryptosuite: str = EDDSA_JCS_2022,
    created: datetime | None = None,
    expires: datetime | None = None,
    challenge: str | None = None,
    domain: str | None = None,
    proof_id: str | None = None,
    previous_proof: str | Sequence[str] | None = None,
) -> dict[str, Any]:
    """Return a copy of ``document`` with one more proof (Data Integrity §4.4).

    An unsigned document gets a single ``proof`` object; a signed one gets a proof
    set (a list). With ``previous_proof`` (ids of proofs already on the document)
    the new proof signs the document together with those proofs: a proof chain.

    Raises:
        ValueError: a ``previous_proof`` id that is not on the document, or as
            ``create_proof``.
        UnsupportedCryptosuiteError, CanonicalizationError: as ``create_proof``.
    """
    existing = _proof_list(document.get(PROOF_KEY))
    unsecured = {name: value for name, value in document.items() if name != PROOF_KEY}
    signed_over: Mapping[str, Any] = unsecured
    if previous_proof is not None:
        wanted = [previous_proof] if isinstance(previous_proof, str) else previous_proof
        by_id = {p.get("id"): p for p in existing if isinstance(p, Mapping)}
        missing = [proof_id for proof_id in wanted if proof_id not in by_id]
        if missing:
            raise ValueError(f"previous proof not on the document: {missing[0]!r}")
        signed_over = {**unsecured, PROOF_KEY: [by_id[pid] for pid in wanted]}
    proof = create_proof(
        signed_over,
        key=key,
        verification_method=verification_method,
        proof_purpose=proof_purpose,
        cryptosuite=cryptosuite,
        created=created,
        expires=expires,
        challenge=challenge,
        domain=domain,
        proof_id=proof_id,
        previous_proof=previous_proof,
    )
    all_proofs = [*existing, proof]
    return {**unsecured, PROOF_KEY: all_proofs if len(all_proofs) > 1 else proof}


def hash_data(
    unsecured_document: Mapping[str, Any],
    proof_options: Mapping[str, Any],
    suite: Cryptosuite,
) -> bytes:
    """``SHA-256(canonical proof configuration) || SHA-256(canonical document)``.

    ``proof_options`` is the proof without its ``proofValue`` (one is ignored).

    Raises:
        CanonicalizationError: no canonical form (or the RDFC suite's errors).
    """
    config = {name: v for name, v in proof_options.items() if name != PROOF_VALUE_KEY}
    if not suite.embeds_context and CONTEXT_KEY in unsecured_document:
        config[CONTEXT_KEY] = unsecured_document[CONTEXT_KEY]
    return (
        hashlib.sha256(suite.canonicalize(config)).digest()
        + hashlib.sha256(suite.canonicalize(unsecured_document)).digest()
    )


# --- verifying ---------------------------------------------------------------------


def verify_proofs(
    secured_document: Mapping[str, Any],
    *,
    resolver: DIDDocumentResolver,
    expected_purpose: ProofPurpose,
    challenge: str | None = None,
    domain: str | None = None,
    now: datetime | None = None,
    leeway: timedelta = DEFAULT_LEEWAY,
) -> tuple[VerifiedProof, ...]:
    """Verify every proof of a document: a single proof, a proof set or chain.

    Each proof must verify, for ``expected_purpose``; ``challenge`` and ``domain``,
    when given, must be the proof's. The document is used exactly as given.

    Raises:
        ProofMissingError: no proof.
        MalformedProofError: a proof that is not an object or lacks members.
        UnsupportedCryptosuiteError: a proof type or cryptosuite not supported.
        ProofPurposeMismatchError, InvalidChallengeError, InvalidDomainError,
        ProofExpiredError, ProofRelationshipError, ProofVerificationError: the
            proof does not hold (see ``specs/problems.md``).
        ResolutionError: (and subclasses) the DID could not be resolved.
    """
    all_proofs = _proof_list(secured_document.get(PROOF_KEY))
    if not all_proofs:
        raise ProofMissingError("the document has no proof")
    moment = now or datetime.now(UTC)
    unsecured = {
        name: value for name, value in secured_document.items() if name != PROOF_KEY
    }
    documents = (
        resolver
        if isinstance(resolver, CachingResolver)
        else CachingResolver(resolver, max_entries=16)
    )
    verified: list[VerifiedProof] = []
    for index, proof in enumerate(all_proofs):
        if not isinstance(proof, Mapping):
            raise MalformedProofError("a proof must be a JSON object", index=index)
        signed_over: Mapping[str, Any] = unsecured
        previous = proof.get("previousProof")
        if previous is not None:
            signed_over = {
                **unsecured,
                PROOF_KEY: _previous_proofs(previous, all_proofs, index),
            }
        verified.append(
            verify_proof(
                signed_over,
                proof,
                resolver=documents,
                expected_purpose=expected_purpose,
                challenge=challenge,
                domain=domain,
                now=moment,
                leeway=leeway,
            )
        )
    return tuple(verified)


def verify_proof(
    unsecured_document: Mapping[str, Any],
    proof: Mapping[str, Any],
    *,
    resolver: DIDDocumentResolver,
    expected_purpose: ProofPurpose,
    challenge: str | None = None,
    domain: str | None = None,
    now: datetime | None = None,
    leeway: timedelta = DEFAULT_LEEWAY,
) -> VerifiedProof:
    """Verify one proof over ``unsecured_document`` (Data Integrity §4.2).

    Raises:
        as ``verify_proofs``.
    """
    suite = _suite_of(proof)
    method_id = _required_string(proof, "verificationMethod")
    purpose = _required_string(proof, "proofPurpose")
    proof_value = _required_string(proof, PROOF_VALUE_KEY)
    created = _optional_time(proof, "created")
    expires = _optional_time(proof, "expires")
    if purpose != expected_purpose:
        raise ProofPurposeMismatchError(
            "the proof was made for another purpose",
            expected=expected_purpose,
            actual=purpose[:64],
        )
    if expires is not None and expires < (now or datetime.now(UTC)) - leeway:
        raise ProofExpiredError("the proof has expired", expires=proof["expires"])
    _check_challenge_and_domain(proof, challenge=challenge, domain=domain)
    if isinstance(resolver, CachingResolver):
        controller, public_key = resolver.verification_key(method_id, purpose)
    else:
        controller, public_key = _verification_key(method_id, purpose, resolver)
    if public_key.algorithm is not suite.key_algorithm:
        raise ProofVerificationError(
            "the verification method's key type does not fit the cryptosuite",
            cryptosuite=suite.name,
            algorithm=public_key.algorithm.value,
        )
    document = _document_with_proof_context(unsecured_document, proof)
    signature = _decode_signature(proof_value)
    try:
        public_key.verify(signature, hash_data(document, proof, suite))
    except InvalidSignatureError as exc:
        raise ProofVerificationError(
            "the proof's signature does not verify",
            verification_method=method_id[:256],
        ) from exc
    return VerifiedProof(
        proof=proof,
        cryptosuite=suite.name,
        verification_method=method_id,
        controller=controller,
        proof_purpose=purpose,
        created=created,
    )


def _proof_list(value: object) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _previous_proofs(
    previous: object, all_proofs: Sequence[Any], index: int
) -> list[Mapping[str, Any]]:
    wanted = [previous] if isinstance(previous, str) else previous
    if not isinstance(wanted, list) or not all(isinstance(w, str) for w in wanted):
        raise MalformedProofError(
            "previousProof must be a string or a list of strings", index=index
        )
    found: list[Mapping[str, Any]] = []
    for proof_id in wanted:
        match = [
            p for p in all_proofs if isinstance(p, Mapping) and p.get("id") == proof_id
        ]
        if not match:
            raise ProofVerificationError(
                "previousProof names a proof that is not in the proof set",
                previous_proof=proof_id[:256],
            )
        found.append(match[0])
    return found


def _suite_of(proof: Mapping[str, Any]) -> Cryptosuite:
    if not isinstance(proof, Mapping):
        raise MalformedProofError("a proof must be a JSON object")
    proof_type = proof.get("type")
    if proof_type != DATA_INTEGRITY_PROOF:
        raise UnsupportedCryptosuiteError(
            "only DataIntegrityProof proofs are supported", type=str(proof_type)[:64]
        )
    return get_cryptosuite(proof.get("cryptosuite"))


def _required_string(proof: Mapping[str, Any], name: str) -> str:
    value = proof.get(name)
    if not isinstance(value, str) or not value:
        raise MalformedProofError(f"the proof needs a string {name!r}", member=name)
    return value


def _optional_time(proof: Mapping[str, Any], name: str) -> datetime | None:
    value = proof.get(name)
    if value is None:
        return None
    try:
        return parse_date_time_stamp(value)
    except ValueError as exc:
        raise MalformedProofError(
            f"the proof's {name!r} is not a dateTimeStamp", member=name
        ) from exc


def _check_challenge_and_domain(
    proof: Mapping[str, Any], *, challenge: str | None, domain: str | None
) -> None:
    if challenge is not None and proof.get("challenge") != challenge:
        raise InvalidChallengeError("the proof's challenge is missing or not ours")
    if domain is not None:
        actual = proof.get("domain")
        domains = actual if isinstance(actual, list) else [actual]
        if domain not in domains:
            raise InvalidDomainError("the proof's domain is missing or not ours")


def _verification_key(
    method_id: str, purpose: str, resolver: DIDDocumentResolver
) -> tuple[str, PublicKey]:
    """The controller and key of a method, checked to be listed under ``purpose``."""
    try:
        url = DIDURL.parse(method_id)
    except InvalidDIDURLError as exc:
        raise MalformedProofError(
            "verificationMethod must be a DID URL", verification_method=method_id[:256]
        ) from exc
    if url.path or url.query is not None or not url.fragment:
        raise MalformedProofError(
            "verificationMethod must be a did:…#fragment URL",
            verification_method=method_id[:256],
        )
    document = resolver.resolve(str(url.did))
    method = document.find_verification_method(method_id)
    if method.controller != document.id:
        raise ProofRelationshipError(
            "the verification method is controlled by another DID",
            verification_method=method_id[:256],
        )
    try:
        document.find_verification_method(
            method_id,
            relationship="authentication"
            if purpose == AUTHENTICATION
            else "assertionMethod",
        )
    except VerificationMethodNotFoundError as exc:
        raise ProofRelationshipError(
            "the verification method is not listed under the proof purpose",
            verification_method=method_id[:256],
            relationship=purpose,
        ) from exc
    return document.id, method.public_key()


def _document_with_proof_context(
    unsecured_document: Mapping[str, Any], proof: Mapping[str, Any]
) -> Mapping[str, Any]:
    """vc-di-eddsa §3.3.2: the proof's ``@context`` must prefix the document's."""
    if CONTEXT_KEY not in proof:
        return unsecured_document
    proof_context = proof[CONTEXT_KEY]
    document_context = unsecured_document.get(CONTEXT_KEY)
    wanted = proof_context if isinstance(proof_context, list) else [proof_context]
    actual = (
        document_context if isinstance(document_context, list) else [document_context]
    )
    if actual[: len(wanted)] != wanted:
        raise ProofVerificationError(
            "the document's @context does not start with the proof's @context"
        )
    return {**unsecured_document, CONTEXT_KEY: proof_context}


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CachingResolver:
    """A resolver that remembers DID documents and authorized verification keys.

    Wrap a long-lived resolver in one to verify many proofs fast: each DID is
    resolved, and each verification method parsed and checked against its
    relationship, once per ``ttl`` (measured with ``clock``); at most
    ``max_entries`` of each are kept. Failures are never cached.
    """

    def __init__(
        self,
        resolver: DIDDocumentResolver,
        *,
        ttl: timedelta = timedelta(minutes=5),
        max_entries: int = 1024,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be positive")
        self._resolver = resolver
        self._ttl = ttl
        self._max_entries = max_entries
        self._clock = clock
        self._documents: OrderedDict[str, tuple[datetime, DIDDocument]] = OrderedDict()
        self._keys: OrderedDict[tuple[str, str], tuple[datetime, str, PublicKey]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def resolve(self, did: str, /) -> DIDDocument:
        """The DID document, from the cache while it is fresh.

        Raises:
            as the wrapped resolver.
        """
        now = self._clock()
        with self._lock:
            entry = self._documents.get(did)
            if entry is not None and now < entry[0]:
                self._documents.move_to_end(did)
                return entry[1]
        document = self._resolver.resolve(did)
        with self._lock:
            self._documents[did] = (now + self._ttl, document)
            self._documents.move_to_end(did)
            while len(self._documents) > self._max_entries:
                self._documents.popitem(last=False)
        return document

    def verification_key(self, method_id: str, purpose: str) -> tuple[str, PublicKey]:
        """The controller DID and public key of a method authorized for ``purpose``.

        Raises:
            MalformedProofError: not a ``did:…#fragment`` URL.
            ProofRelationshipError: not listed under the purpose's relationship.
            VerificationMethodNotFoundError, ResolutionError, InvalidKeyError,
            UnsupportedAlgorithmError: as resolving and parsing the method.
        """
        now = self._clock()
        cache_key = (method_id, purpose)
        with self._lock:
            entry = self._keys.get(cache_key)
            if entry is not None and now < entry[0]:
                self._keys.move_to_end(cache_key)
                return entry[1], entry[2]
        controller, public_key = _verification_key(method_id, purpose, self)
        with self._lock:
            self._keys[cache_key] = (now + self._ttl, controller, public_key)
            self._keys.move_to_end(cache_key)
            while len(self._keys) > self._max_entries:
                self._keys.popitem(last=False)
        return controller, public_key


# The ``base58`` package converts between integers and bytes a digit at a time, which
# costs more per proof than the hashing; these do the same with Python's big integers.
_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_DIGITS = bytes.maketrans(_B58_ALPHABET.encode("ascii"), bytes(range(58)))
_B58_INVALID = bytes(set(range(256)) - set(_B58_ALPHABET.encode("ascii")))
_B58_CHUNK = 58**10
# Two base58 digits at a time: 3,364 two-character strings, read-only.
_B58_PAIRS = tuple(a + b for a in _B58_ALPHABET for b in _B58_ALPHABET)


def _encode_signature(signature: bytes) -> str:
    """Multibase base58btc (``z`` + Bitcoin-alphabet base58) of the signature."""
    number = int.from_bytes(signature, "big")
    pairs: list[str] = []
    while number:
        number, chunk = divmod(number, _B58_CHUNK)
        for _ in range(5):
            chunk, pair = divmod(chunk, 3364)
            pairs.append(_B58_PAIRS[pair])
    text = "".join(reversed(pairs)).lstrip("1")
    zeros = len(signature) - len(signature.lstrip(b"\0"))
    return BASE58BTC_PREFIX + "1" * zeros + text


def _decode_signature(proof_value: str) -> bytes:
    """The signature bytes of a multibase base58btc ``proofValue``.

    Raises:
        MalformedProofError: not ``z`` + base58btc, or absurdly long.
    """
    body = proof_value[1:]
    if (
        not proof_value.startswith(BASE58BTC_PREFIX)
        or not body.isascii()
        or len(body) > 1024
    ):
        raise MalformedProofError("proofValue is not multibase base58btc")
    raw = body.encode("ascii")
    if raw.translate(None, _B58_INVALID) != raw:
        raise MalformedProofError("proofValue is not multibase base58btc")
    number = 0
    for digit in raw.translate(_B58_DIGITS):
        number = number * 58 + digit
    zeros = len(body) - len(body.lstrip("1"))
    return b"\0" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")
