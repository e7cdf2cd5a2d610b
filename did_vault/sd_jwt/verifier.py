"""Verifying SD-JWT presentations (RFC 9901 §7.1, §7.3) and SD-JWT VCs.

``verify_sd_jwt`` runs, in order, and stops at the first failure by raising its
specific error (codes in ``specs/problems.md``):

1. ``parse``: compact (or JWS JSON, §8) SD-JWT[+KB]; the Issuer-signed JWT's header
   passes the JWS policy (EdDSA / ES256 only, no ``crit``) and its ``typ`` is the
   expected one (``dc+sd-jwt``);
2. ``signature``: the issuer key is found from the payload's ``iss`` and the header's
   ``kid`` only (``kid`` a DID URL of the ``iss`` DID, listed under
   ``assertionMethod``), never from keys in the header, and the ``alg`` must be the
   one bound to its key type;
3. ``disclosures``: ``_sd_alg`` is ``sha-256``; every Disclosure is digested as
   received and must be referenced exactly once; digests are unique, names neither
   reserved nor colliding; claims that must stay in the clear are not disclosed;
4. ``claims``: for ``dc+sd-jwt``, ``iss``, ``vct``, ``iat`` and ``cnf`` are present;
5. ``validity``: ``exp``, ``nbf`` and ``iat`` against the injected clock, with leeway;
6. ``key-binding``: when the policy requires it (the default), a KB-JWT must be
   present, typed ``kb+jwt``, signed by the ``cnf`` key, with the verifier's ``aud``
   and ``nonce``, a fresh ``iat`` and the ``sd_hash`` of exactly what was presented.
   The presence of a KB-JWT never decides whether one is required;
7. ``status``: a ``status`` claim is checked through the injected checker (a status
   with no checker fails closed);
8. ``nonce``: the nonce is consumed in the nonce store, once.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

from did_vault.credentials.proofs import (
    ASSERTION_METHOD,
    CachingResolver,
    DIDDocumentResolver,
)
from did_vault.credentials.verifier import Check
from did_vault.dids.did import DIDURL
from did_vault.errors import (
    CredentialExpiredError,
    CredentialNotYetValidError,
    DidVaultError,
    DisclosureUnreferencedError,
    InvalidAudienceError,
    InvalidDIDURLError,
    InvalidNonceError,
    InvalidSDJWTTypeError,
    InvalidSignatureError,
    IssuerMismatchError,
    JWSAlgorithmMismatchError,
    KeyBindingInvalidError,
    KeyBindingMissingError,
    KeyBindingStaleError,
    MalformedInputError,
    MalformedProofError,
    MalformedSDJWTError,
    NonceReplayedError,
    ProofRelationshipError,
    SDHashMismatchError,
    StatusUncheckedError,
    VerificationMethodNotFoundError,
)
from did_vault.keys import PublicKey
from did_vault.primitives.jws import (
    CompactJWS,
    VerificationKey,
    parse_compact,
    verify_compact,
)
from did_vault.sd_jwt._tree import resolve
from did_vault.sd_jwt.disclosure import ClaimPath, Disclosure, digest_of
from did_vault.sd_jwt.holder import (
    KB_JWT_TYP,
    SEPARATOR,
    from_json,
    index_disclosures,
    parse_issuer_jwt,
    sd_alg_of,
    split_compact,
)
from did_vault.sd_jwt.issuer import NEVER_DISCLOSABLE, SD_JWT_VC_TYP
from did_vault.sd_jwt.nonces import NonceState, NonceStore

PARSE: Final = "parse"
SIGNATURE: Final = "signature"
DISCLOSURES: Final = "disclosures"
CLAIMS: Final = "claims"
VALIDITY: Final = "validity"
KEY_BINDING: Final = "key-binding"
STATUS: Final = "status"
NONCE: Final = "nonce"

DEFAULT_LEEWAY: Final = timedelta(seconds=60)
DEFAULT_MAX_KB_AGE: Final = timedelta(minutes=5)

IssuerKeyResolver = Callable[[str | None, str | None], PublicKey]
"""``(iss, kid) -> key``: the key the Issuer-signed JWT must verify under."""


class TokenStatusCheck(Protocol):
    """Checks a ``status`` claim (``TokenStatusChecker`` fits); raises if not valid."""

    def check(self, status: Mapping[str, Any], *, now: datetime) -> object: ...


@dataclass(frozen=True, slots=True)
class VerifiedSDJWT:
    """A presentation whose every check passed.

    ``claims`` is the processed payload: only what was disclosed plus the clear
    claims, with ``_sd`` and ``_sd_alg`` removed. ``disclosed_paths`` are paths in
    ``claims``.
    """

    claims: dict[str, Any]
    issuer: str | None
    vct: str | None
    holder_jwk: dict[str, Any] | None
    disclosed_paths: tuple[ClaimPath, ...]
    header: dict[str, Any]
    key_binding: dict[str, Any] | None
    checks: tuple[Check, ...]

    @property
    def holder_key(self) -> PublicKey | None:
        """The ``cnf`` key (already checked to be a usable key during verification)."""
        return None if self.holder_jwk is None else PublicKey.from_jwk(self.holder_jwk)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _did_issuer_key(
    resolver: DIDDocumentResolver, issuer: str | None, kid: str | None
) -> PublicKey:
    if not isinstance(issuer, str):
        raise MalformedSDJWTError("the SD-JWT has no iss", field="iss")
    if not isinstance(kid, str):
        raise MalformedSDJWTError("the SD-JWT header has no kid", field="kid")
    if isinstance(resolver, CachingResolver):
        # Checked before anything is resolved: a hostile kid costs no lookup. The
        # cache parses the DID URL itself when it first sees it.
        if not kid.startswith(issuer + "#"):
            raise IssuerMismatchError(
                "the kid is not a key of the iss DID",
                issuer=issuer[:256],
                kid=kid[:256],
            )
        try:
            _, key = resolver.verification_key(kid, ASSERTION_METHOD)
        except MalformedProofError as exc:
            raise MalformedSDJWTError(
                "kid is not a did:…#fragment URL", field="kid"
            ) from exc
        return key
    try:
        url = DIDURL.parse(kid)
    except InvalidDIDURLError as exc:
        raise MalformedSDJWTError("kid is not a DID URL", field="kid") from exc
    if url.path or url.query is not None or not url.fragment:
        raise MalformedSDJWTError("kid is not a did:…#fragment URL", field="kid")
    if str(url.did) != issuer:
        # Checked before anything is resolved: a hostile kid costs no lookup.
        raise IssuerMismatchError(
            "the kid is not a key of the iss DID", issuer=issuer[:256], kid=kid[:256]
        )
    document = resolver.resolve(issuer)
    method = document.find_verification_method(kid)
    if method.controller != document.id:
        raise ProofRelationshipError(
            "the key is controlled by another DID", verification_method=kid[:256]
        )
    try:
        document.find_verification_method(kid, relationship=ASSERTION_METHOD)
    except VerificationMethodNotFoundError as exc:
        raise ProofRelationshipError(
            "the key is not listed under assertionMethod",
            verification_method=kid[:256],
            relationship=ASSERTION_METHOD,
        ) from exc
    return method.public_key()


def _holder_jwk(payload: Mapping[str, Any]) -> dict[str, Any] | None:
    cnf = payload.get("cnf")
    if cnf is None:
        return None
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    if not isinstance(jwk, dict):
        raise MalformedSDJWTError("cnf has no jwk", field="cnf")
    return jwk


def _check_time_claims(
    payload: Mapping[str, Any], *, now: float, leeway: float, require_iat: bool
) -> None:
    for name in ("iat", "nbf", "exp"):
        value = payload.get(name)
        if value is None:
            if name == "iat" and require_iat:
                raise MalformedSDJWTError("the SD-JWT has no iat", field=name)
            continue
        if not _is_number(value):
            raise MalformedSDJWTError(f"{name} is not a number", field=name)
    exp, nbf, iat = payload.get("exp"), payload.get("nbf"), payload.get("iat")
    if exp is not None and now - leeway >= exp:
        raise CredentialExpiredError("the SD-JWT has expired", exp=int(exp))
    if nbf is not None and now + leeway < nbf:
        raise CredentialNotYetValidError("the SD-JWT is not valid yet", nbf=int(nbf))
    if iat is not None and now + leeway < iat:
        raise CredentialNotYetValidError(
            "the SD-JWT is issued in the future", iat=int(iat)
        )


def _verify_key_binding(
    kb_jwt: str,
    *,
    presented: str,
    sd_alg: str,
    holder_key: VerificationKey | None,
    audience: str | None,
    nonce: str | None,
    now: float,
    leeway: float,
    max_age: float,
) -> dict[str, Any]:
    try:
        jws: CompactJWS = parse_compact(kb_jwt)
        claims = jws.payload_object()
    except MalformedInputError as exc:
        raise KeyBindingInvalidError(
            "the Key Binding JWT is not a compact JWS", cause=exc.code
        ) from exc
    if jws.header.get("typ") != KB_JWT_TYP:
        raise KeyBindingInvalidError("the Key Binding JWT's typ is not kb+jwt")
    if holder_key is None:
        raise KeyBindingInvalidError("the SD-JWT has no cnf key to bind to")
    try:
        verify_compact(jws, holder_key)
    except (InvalidSignatureError, JWSAlgorithmMismatchError) as exc:
        raise KeyBindingInvalidError(
            "the Key Binding JWT is not signed by the cnf key", cause=exc.code
        ) from exc
    sd_hash = claims.get("sd_hash")
    if not isinstance(sd_hash, str):
        raise KeyBindingInvalidError("the Key Binding JWT has no sd_hash")
    if sd_hash != digest_of(presented, sd_alg):
        raise SDHashMismatchError("sd_hash is not the digest of the presentation")
    aud = claims.get("aud")
    if not isinstance(aud, str) or (audience is not None and aud != audience):
        raise InvalidAudienceError("the Key Binding JWT's aud is not this verifier")
    kb_nonce = claims.get("nonce")
    if not isinstance(kb_nonce, str) or (nonce is not None and kb_nonce != nonce):
        raise InvalidNonceError("the Key Binding JWT's nonce is not the expected one")
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise KeyBindingInvalidError("the Key Binding JWT has no numeric iat")
    if iat > now + leeway or iat < now - max_age - leeway:
        raise KeyBindingStaleError(
            "the Key Binding JWT's iat is outside the freshness window", iat=int(iat)
        )
    return claims


_KeyMemoKey = PublicKey | tuple[str, ...]


class SDJWTVerifier:
    """A verifier's policy, and a memo of loaded keys, for many presentations.

    :meth:`verify` does what :func:`verify_sd_jwt` does; keeping one verifier
    saves loading the same issuer and holder keys again (at most
    ``max_cached_keys`` are kept; the memo holds public keys only, each found and
    checked again through the resolver on every call).
    """

    def __init__(
        self,
        *,
        resolver: DIDDocumentResolver | None = None,
        issuer_key_resolver: IssuerKeyResolver | None = None,
        nonce_store: NonceStore | None = None,
        require_key_binding: bool = True,
        leeway: timedelta = DEFAULT_LEEWAY,
        max_kb_age: timedelta = DEFAULT_MAX_KB_AGE,
        status_checker: TokenStatusCheck | None = None,
        expected_typ: str | None = SD_JWT_VC_TYP,
        max_cached_keys: int = 256,
    ) -> None:
        if (resolver is None) == (issuer_key_resolver is None):
            raise ValueError("give exactly one of resolver and issuer_key_resolver")
        if max_cached_keys < 0:
            raise ValueError("max_cached_keys must be zero or positive")
        self._resolver = resolver
        self._issuer_key_resolver = issuer_key_resolver
        self._nonce_store = nonce_store
        self._require_key_binding = require_key_binding
        self._leeway = leeway.total_seconds()
        self._max_kb_age = max_kb_age.total_seconds()
        self._status_checker = status_checker
        self._expected_typ = expected_typ
        self._max_cached_keys = max_cached_keys
        self._keys: dict[_KeyMemoKey, VerificationKey] = {}

    @property
    def requires_key_binding(self) -> bool:
        return self._require_key_binding

    def _remember(self, memo_key: _KeyMemoKey, loaded: VerificationKey) -> None:
        if self._max_cached_keys:
            keys = self._keys
            while len(keys) >= self._max_cached_keys:
                keys.pop(next(iter(keys)), None)
            keys[memo_key] = loaded

    def _issuer_key(self, key: PublicKey) -> VerificationKey:
        loaded = self._keys.get(key)
        if loaded is None:
            loaded = VerificationKey.from_public_key(key)
            self._remember(key, loaded)
        return loaded

    def _holder_key(self, jwk: Mapping[str, Any]) -> VerificationKey:
        memo_key = tuple(
            str(jwk.get(name)) for name in ("kty", "crv", "x", "y", "alg", "d")
        )
        loaded = self._keys.get(memo_key)
        if loaded is None:
            try:
                loaded = VerificationKey.from_jwk(jwk)
            except DidVaultError as exc:
                raise MalformedSDJWTError(
                    "cnf.jwk is not a usable key", field="cnf", cause=exc.code
                ) from exc
            self._remember(memo_key, loaded)
        return loaded

    def verify(
        self,
        presentation: str,
        *,
        audience: str | None,
        nonce: str | None,
        now: datetime | None = None,
    ) -> VerifiedSDJWT:
        """Verify one presentation; see :func:`verify_sd_jwt`.

        Raises:
            as :func:`verify_sd_jwt`.
        """
        if self._require_key_binding and (not audience or not nonce):
            raise ValueError("Key Binding is required: give the audience and the nonce")
        moment = now or _utc_now()
        if moment.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        epoch = moment.timestamp()
        slack = self._leeway
        expected_typ = self._expected_typ
        checks: list[Check] = []

        # 1. parse
        if isinstance(presentation, str) and presentation.startswith("{"):
            presentation = from_json(presentation)
        issuer_jwt, encoded, kb_jwt = split_compact(presentation)
        jws, payload = parse_issuer_jwt(issuer_jwt)
        header = jws.header
        disclosures = [Disclosure.parse(text) for text in encoded]
        if expected_typ is not None and header.get("typ") != expected_typ:
            raise InvalidSDJWTTypeError(
                "the SD-JWT's typ is not the expected one",
                expected=expected_typ,
                typ=str(header.get("typ"))[:64],
            )
        checks.append(Check(PARSE, f"SD-JWT with {len(disclosures)} Disclosure(s)"))

        # 2. signature: the key comes from iss and kid only, never from the header
        issuer = payload.get("iss")
        kid = header.get("kid")
        iss_text = issuer if isinstance(issuer, str) else None
        kid_text = kid if isinstance(kid, str) else None
        if self._resolver is not None:
            public_key = _did_issuer_key(self._resolver, iss_text, kid_text)
        else:
            assert self._issuer_key_resolver is not None  # one of the two
            public_key = self._issuer_key_resolver(iss_text, kid_text)
        verify_compact(jws, self._issuer_key(public_key))
        checks.append(Check(SIGNATURE, f"{jws.alg} by {kid_text or 'the issuer key'}"))

        # 3. disclosures
        sd_alg = sd_alg_of(payload)
        by_digest = index_disclosures(disclosures, sd_alg)
        resolution = resolve(payload, by_digest, clear=NEVER_DISCLOSABLE)
        if len(resolution.paths) != len(by_digest):
            raise DisclosureUnreferencedError(
                "a Disclosure is not referenced by the SD-JWT",
                unreferenced=len(by_digest) - len(resolution.paths),
            )
        checks.append(
            Check(DISCLOSURES, f"{len(resolution.paths)} disclosed, digests {sd_alg}")
        )

        # 4. claims
        holder_jwk = _holder_jwk(payload)
        holder_key = None if holder_jwk is None else self._holder_key(holder_jwk)
        vct = payload.get("vct")
        if expected_typ == SD_JWT_VC_TYP:
            if iss_text is None:
                raise MalformedSDJWTError("an SD-JWT VC needs iss", field="iss")
            if not isinstance(vct, str) or not vct:
                raise MalformedSDJWTError("an SD-JWT VC needs vct", field="vct")
            if holder_key is None:
                raise MalformedSDJWTError("an SD-JWT VC needs cnf", field="cnf")
            checks.append(Check(CLAIMS, f"vct {vct}"))
        elif vct is not None and not isinstance(vct, str):
            raise MalformedSDJWTError("vct is not a string", field="vct")

        # 5. validity
        _check_time_claims(
            payload,
            now=epoch,
            leeway=slack,
            require_iat=expected_typ == SD_JWT_VC_TYP,
        )
        checks.append(Check(VALIDITY, "within iat, nbf and exp"))

        # 6. key binding: the policy decides, never the input
        key_binding: dict[str, Any] | None = None
        if kb_jwt is None:
            if self._require_key_binding:
                raise KeyBindingMissingError("the presentation has no Key Binding JWT")
            checks.append(Check(KEY_BINDING, "not required, none presented"))
        else:
            key_binding = _verify_key_binding(
                kb_jwt,
                presented=presentation[: presentation.rfind(SEPARATOR) + 1],
                sd_alg=sd_alg,
                holder_key=holder_key,
                audience=audience,
                nonce=nonce,
                now=epoch,
                leeway=slack,
                max_age=self._max_kb_age,
            )
            checks.append(Check(KEY_BINDING, "kb+jwt by the cnf key, aud and nonce"))

        # 7. status
        status = payload.get("status")
        if status is not None:
            if self._status_checker is None:
                raise StatusUncheckedError(
                    "the SD-JWT has a status but no status checker was given"
                )
            self._status_checker.check(status, now=moment)
            checks.append(Check(STATUS, "status list checked"))
        else:
            checks.append(Check(STATUS, "no status"))

        # 8. nonce, consumed last so that a failed attempt does not burn it
        if self._nonce_store is not None and key_binding is not None:
            state = self._nonce_store.consume(str(key_binding["nonce"]), now=moment)
            if state == NonceState.REPLAYED:
                raise NonceReplayedError("the nonce was already used")
            if state != NonceState.ACCEPTED:
                raise InvalidNonceError(
                    "the nonce is unknown or expired", state=str(state)
                )
            checks.append(Check(NONCE, "single use, consumed"))

        return VerifiedSDJWT(
            claims=resolution.claims,
            issuer=iss_text,
            vct=vct if isinstance(vct, str) else None,
            holder_jwk=holder_jwk,
            disclosed_paths=tuple(path for path, _ in resolution.paths),
            header=header,
            key_binding=key_binding,
            checks=tuple(checks),
        )


def verify_sd_jwt(
    presentation: str,
    *,
    audience: str | None,
    nonce: str | None,
    resolver: DIDDocumentResolver | None = None,
    issuer_key_resolver: IssuerKeyResolver | None = None,
    nonce_store: NonceStore | None = None,
    require_key_binding: bool = True,
    now: datetime | None = None,
    leeway: timedelta = DEFAULT_LEEWAY,
    max_kb_age: timedelta = DEFAULT_MAX_KB_AGE,
    status_checker: TokenStatusCheck | None = None,
    expected_typ: str | None = SD_JWT_VC_TYP,
) -> VerifiedSDJWT:
    """Verify an SD-JWT[+KB] presentation; return what it proves, or raise.

    Give exactly one of ``resolver`` (issuer keys from DID documents, the SD-JWT VC
    way; wrap it in a ``CachingResolver`` to verify many) and ``issuer_key_resolver``
    (``(iss, kid) -> key``). ``expected_typ`` None skips the ``typ`` check (plain
    SD-JWTs); ``dc+sd-jwt`` also requires ``iss``, ``vct``, ``iat`` and ``cnf``.
    To verify many presentations, keep one :class:`SDJWTVerifier`.

    Raises:
        ValueError: both or neither key source, or Key Binding required without an
            ``audience`` and a ``nonce`` to check it against.
        MalformedSDJWTError, InvalidDisclosureError, ReservedClaimNameError: input
            that is not an SD-JWT.
        UnsupportedJWSAlgorithmError, UnsupportedCriticalHeaderError,
            UnsupportedDigestAlgorithmError: refused algorithms and headers.
        InvalidSDJWTTypeError, InvalidSignatureError, JWSAlgorithmMismatchError,
            IssuerMismatchError, ProofRelationshipError: the issuer's signature.
        DisclosureUnreferencedError, DuplicateDigestError, ClaimCollisionError,
            RequiredClaimConcealedError: the Disclosures.
        CredentialExpiredError, CredentialNotYetValidError: validity.
        KeyBindingMissingError, KeyBindingInvalidError, SDHashMismatchError,
            InvalidAudienceError, InvalidNonceError, KeyBindingStaleError,
            NonceReplayedError: Key Binding.
        StatusUncheckedError, CredentialRevokedError, CredentialSuspendedError (and
            the status checker's other errors): status.
        ResolutionError (and subclasses): the issuer's DID could not be resolved.
    """
    verifier = SDJWTVerifier(
        resolver=resolver,
        issuer_key_resolver=issuer_key_resolver,
        nonce_store=nonce_store,
        require_key_binding=require_key_binding,
        leeway=leeway,
        max_kb_age=max_kb_age,
        status_checker=status_checker,
        expected_typ=expected_typ,
        max_cached_keys=0,
    )
    return verifier.verify(presentation, audience=audience, nonce=nonce, now=now)
