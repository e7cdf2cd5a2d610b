"""SD-JWT VC benchmark: this project against the IETF reference and the raw ES256 limit.

Run with ``python -m bench.sd_jwt`` (``python -m bench`` runs it last). In one run, on
the same inputs and ES256 keys (the reference's Key Binding check only knows ES256):

- issue an SD-JWT VC with 10 selectively disclosable claims and a holder key;
- present 3 of them with a Key Binding JWT;
- verify that presentation, Key Binding included;

for this project (``did_vault.sd_jwt``) and for PyPI ``sd-jwt`` (the IETF reference
implementation, on jwcrypto), and the raw limit of verification: two ES256 signature
checks (issuer JWT and KB-JWT, ``cryptography`` directly) plus the SHA-256 digests of
the 3 Disclosures and of the ``sd_hash`` input. Our verifier resolves the issuer's
did:key through a ``CachingResolver`` (paid once, as in a long-running verifier) and
runs every check except nonce consumption (a store would refuse the replays a loop
makes). Our issuer is a kept ``SDJWTIssuer`` and our holder presents from an
``SDJWT`` parsed once; the one-shot functions (``issue_sd_jwt_vc``, ``present`` on the
compact text, ``verify_sd_jwt``) have rows of their own.
``--profile issue|issue_once|present|present_once|verify`` prints where our time goes.

Targets (issue 5): verify ≥ 3x and issue / present ≥ 4x the reference's rates, and
verify ≥ 60 % of the raw limit.
"""

import argparse
import base64
import cProfile
import hashlib
import importlib.metadata
import json
import pstats
import secrets
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from bench.keys import Row, environment, measure, render
from did_vault.credentials.proofs import CachingResolver
from did_vault.dids import create_did_key, default_resolver
from did_vault.keys import KeyAlgorithm, PrivateKey, PublicKey
from did_vault.primitives.b64 import b64url_decode
from did_vault.sd_jwt.holder import SDJWT, present
from did_vault.sd_jwt.issuer import SDJWTIssuer, issue_sd_jwt_vc
from did_vault.sd_jwt.verifier import SDJWTVerifier, verify_sd_jwt

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
VCT = "urn:did-vault:vct:OwnershipCredential"
AUDIENCE = "did:web:pawnshop.example"
NONCE = "n-bench-0001"

# Ten selectively disclosable claims of an ownership credential; three are shown.
CLAIMS: dict[str, Any] = {
    "brand": "Brand X",
    "model": "Trekking 7",
    "gtin": "09506000134352",
    "serialNumber": "WBX7-2026-000042",
    "color": "moss green",
    "ownedFrom": "2026-11-20",
    "purchaseDate": "2026-11-20",
    "price": {"amount": "2499.00", "currency": "EUR"},
    "seller": "Example Cycles",
    "warrantyValidUntil": "2028-11-20",
}
REVEALED = ("brand", "model", "warrantyValidUntil")
TARGETS = {"issue": 4.0, "present": 4.0, "verify": 3.0}
RAW_TARGET = 0.6


class _Ours:
    """This project's issue, present and verify on the shared inputs."""

    def __init__(self, issuer: PrivateKey, holder: PrivateKey) -> None:
        self.issuer, self.holder = issuer, holder
        self.did = str(create_did_key(issuer.public_key))
        self.kid = f"{self.did}#{issuer.public_key.to_multikey()}"
        self.resolver = CachingResolver(default_resolver())
        self.verifier = SDJWTVerifier(resolver=self.resolver)
        self.sd_jwt_issuer = SDJWTIssuer(issuer_did=self.did, key=issuer, kid=self.kid)
        self.sd_jwt = self.issue()
        self.parsed = SDJWT.parse(self.sd_jwt)
        self.presentation = self.present()

    def issue(self) -> str:
        """A long-running issuer: one SDJWTIssuer keeps its checked kid and header."""
        return self.sd_jwt_issuer.issue(
            vct=VCT,
            claims=CLAIMS,
            disclosable=[(name,) for name in CLAIMS],
            holder_key=self.holder.public_key,
            now=NOW,
        )

    def issue_once(self) -> str:
        """The one-shot function (kid checked, header encoded on every call)."""
        return issue_sd_jwt_vc(
            vct=VCT,
            issuer_did=self.did,
            key=self.issuer,
            kid=self.kid,
            claims=CLAIMS,
            disclosable=[(name,) for name in CLAIMS],
            holder_key=self.holder.public_key,
            now=NOW,
        )

    def present(self) -> str:
        """A wallet that keeps its credential parsed (claims resolved once)."""
        return present(
            self.parsed,
            disclose=[(name,) for name in REVEALED],
            holder_key=self.holder,
            audience=AUDIENCE,
            nonce=NONCE,
            now=NOW,
        )

    def present_once(self) -> str:
        """From the compact string: parse and resolve every Disclosure each call."""
        return present(
            self.sd_jwt,
            disclose=[(name,) for name in REVEALED],
            holder_key=self.holder,
            audience=AUDIENCE,
            nonce=NONCE,
            now=NOW,
        )

    def verify(self) -> dict[str, Any]:
        """A long-running verifier: one SDJWTVerifier keeps the loaded keys."""
        return self.verifier.verify(
            self.presentation, audience=AUDIENCE, nonce=NONCE, now=NOW
        ).claims

    def verify_once(self) -> dict[str, Any]:
        """The one-shot function (keys loaded on every call)."""
        return verify_sd_jwt(
            self.presentation,
            audience=AUDIENCE,
            nonce=NONCE,
            resolver=self.resolver,
            now=NOW,
        ).claims


class _Reference:
    """PyPI ``sd-jwt`` (IETF reference) on the same inputs."""

    def __init__(self, issuer: PrivateKey, holder: PrivateKey, did: str, kid: str):
        from jwcrypto.jwk import JWK  # type: ignore[import-untyped]
        from sd_jwt.common import SDObj  # type: ignore[import-untyped]
        from sd_jwt.holder import SDJWTHolder  # type: ignore[import-untyped]
        from sd_jwt.issuer import SDJWTIssuer  # type: ignore[import-untyped]
        from sd_jwt.verifier import SDJWTVerifier  # type: ignore[import-untyped]

        self._holder_cls, self._issuer_cls = SDJWTHolder, SDJWTIssuer
        self._verifier_cls = SDJWTVerifier
        self.issuer_jwk = JWK(**issuer.to_jwk())
        self.issuer_public = JWK(**issuer.public_key.to_jwk())
        self.holder_jwk = JWK(**holder.to_jwk())
        self.holder_public = JWK(**holder.public_key.to_jwk())
        self.claims = {
            "iss": did,
            "iat": int(NOW.timestamp()),
            "vct": VCT,
            **{SDObj(name): value for name, value in CLAIMS.items()},
        }
        self.header = {"typ": "dc+sd-jwt", "kid": kid}
        self.frame = dict.fromkeys(REVEALED, True)
        self.sd_jwt = self.issue()
        self.presentation = self.present()

    def issue(self) -> str:
        issuer = self._issuer_cls(
            self.claims,
            self.issuer_jwk,
            holder_key=self.holder_public,
            sign_alg="ES256",
            extra_header_parameters=self.header,
        )
        sd_jwt: str = issuer.sd_jwt_issuance
        return sd_jwt

    def present(self) -> str:
        holder = self._holder_cls(self.sd_jwt)
        holder.create_presentation(
            self.frame,
            nonce=NONCE,
            aud=AUDIENCE,
            holder_key=self.holder_jwk,
            sign_alg="ES256",
        )
        presentation: str = holder.sd_jwt_presentation
        return presentation

    def verify(self) -> dict[str, Any]:
        verifier = self._verifier_cls(
            self.presentation,
            lambda issuer, header: self.issuer_public,
            expected_aud=AUDIENCE,
            expected_nonce=NONCE,
        )
        claims: dict[str, Any] = verifier.get_verified_payload()
        return claims


def _raw_verify(
    presentation: str, issuer: PublicKey, holder: PublicKey
) -> Callable[[], None]:
    """Two ES256 verifications and the digests, straight on ``cryptography``."""
    parts = presentation.split("~")
    issuer_jwt, disclosures, kb_jwt = parts[0], parts[1:-1], parts[-1]
    presented = presentation[: len(presentation) - len(kb_jwt)].encode()

    def prepared(jwt: str, key: PublicKey) -> tuple[Any, bytes, bytes]:
        signing_input, _, signature = jwt.rpartition(".")
        raw = b64url_decode(signature)
        der = encode_dss_signature(
            int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
        )
        point = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(),
            b"\x04"
            + b64url_decode(key.to_jwk()["x"])
            + b64url_decode(key.to_jwk()["y"]),
        )
        return point, der, signing_input.encode()

    checks = [prepared(issuer_jwt, issuer), prepared(kb_jwt, holder)]
    encoded = [d.encode() for d in disclosures]
    algorithm = ec.ECDSA(hashes.SHA256())

    def run() -> None:
        for point, der, data in checks:
            point.verify(der, data, algorithm)
        for disclosure in encoded:
            hashlib.sha256(disclosure).digest()
        hashlib.sha256(presented).digest()

    return run


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _raw_issue(key: ec.EllipticCurvePrivateKey) -> Callable[[], None]:
    """The least any issuer does: 10 salted Disclosures and their digests, one sign."""
    header = _b64(json.dumps({"alg": "ES256", "typ": "dc+sd-jwt"}).encode())
    algorithm = ec.ECDSA(hashes.SHA256())
    items = list(CLAIMS.items())

    def run() -> None:
        digests = []
        for name, value in items:
            salt = _b64(secrets.token_bytes(16)).decode()
            disclosure = _b64(json.dumps([salt, name, value]).encode())
            digests.append(_b64(hashlib.sha256(disclosure).digest()).decode())
        payload = _b64(json.dumps({"vct": VCT, "_sd": sorted(digests)}).encode())
        key.sign(header + b"." + payload, algorithm)

    return run


def _raw_present(key: ec.EllipticCurvePrivateKey, sd_jwt: str) -> Callable[[], None]:
    """The least any holder does: digest the Disclosures, pick 3, sign a KB-JWT."""
    header = _b64(json.dumps({"alg": "ES256", "typ": "kb+jwt"}).encode())
    algorithm = ec.ECDSA(hashes.SHA256())

    def run() -> None:
        jwt, *disclosures, _ = sd_jwt.split("~")
        for disclosure in disclosures:
            hashlib.sha256(disclosure.encode()).digest()
        presented = "~".join([jwt, *disclosures[:3], ""])
        sd_hash = _b64(hashlib.sha256(presented.encode()).digest()).decode()
        claims = {"iat": 0, "aud": AUDIENCE, "nonce": NONCE, "sd_hash": sd_hash}
        key.sign(header + b"." + _b64(json.dumps(claims).encode()), algorithm)

    return run


def _compare(row: Row, baseline: Row, target: float, what: str) -> Row:
    assert row.median_s
    assert baseline.median_s
    ratio = baseline.median_s / row.median_s
    verdict = "met" if ratio >= target else "MISSED"
    return Row(
        row.name,
        row.median_s,
        f"{ratio:5.1f}x {what} (target ≥ {target:g}x: {verdict})",
    )


def sd_jwt_rows(*, repeats: int, target_s: float) -> list[Row]:
    issuer = PrivateKey(KeyAlgorithm.P256, bytes.fromhex("5a" * 32))
    holder = PrivateKey(KeyAlgorithm.P256, bytes.fromhex("a5" * 32))
    ours = _Ours(issuer, holder)
    reference = _Reference(issuer, holder, ours.did, ours.kid)
    # Same inputs: both verifiers agree on what the other's presentation discloses.
    shown = {name: CLAIMS[name] for name in REVEALED}
    for claims in (ours.verify(), reference.verify()):
        assert {k: claims[k] for k in REVEALED} == shown

    def timed(name: str, func: Callable[[], object]) -> Row:
        return Row(name, measure(func, repeats=repeats, target_s=target_s))

    issuer_pyca = ec.derive_private_key(
        int.from_bytes(b64url_decode(issuer.to_jwk()["d"]), "big"), ec.SECP256R1()
    )
    holder_pyca = ec.derive_private_key(
        int.from_bytes(b64url_decode(holder.to_jwk()["d"]), "big"), ec.SECP256R1()
    )
    floors = {
        "issue": ("raw floor: 10 Disclosures + 1 ES256 sign", _raw_issue(issuer_pyca)),
        "present": (
            "raw floor: 10 SHA-256 + 1 ES256 sign",
            _raw_present(holder_pyca, ours.sd_jwt),
        ),
        "verify": (
            "raw limit: 2 ES256 verify + 4 SHA-256",
            _raw_verify(ours.presentation, issuer.public_key, holder.public_key),
        ),
    }
    version = importlib.metadata.version("sd-jwt")
    ours_once = {"issue": ours.issue_once, "present": ours.present_once}
    rows: list[Row] = []
    for op, note in (
        ("issue", "10 SD claims"),
        ("present", "3 revealed + KB"),
        ("verify", "with KB"),
    ):
        floor_name, floor_func = floors[op]
        floor = timed(floor_name, floor_func)
        theirs = timed(f"sd-jwt {version} {op} ({note})", getattr(reference, op))
        assert floor.median_s
        assert theirs.median_s
        reachable = theirs.median_s / floor.median_s
        rows.append(
            Row(floor.name, floor.median_s, f"{reachable:5.1f}x the reference at best")
        )
        rows.append(theirs)
        mine = timed(f"did_vault {op} ({note})", getattr(ours, op))
        rows.append(_compare(mine, theirs, TARGETS[op], "the reference"))
        if op in ("issue", "present"):
            once = timed(f"did_vault {op}, one-shot / from text", ours_once[op])
            rows.append(_compare(once, theirs, TARGETS[op], "the reference"))
        if op == "verify":
            rows.append(
                Row(
                    "did_vault verify, against raw",
                    mine.median_s,
                    _raw_share(mine, floor),
                )
            )
            once = timed("did_vault verify_sd_jwt, one-shot", ours.verify_once)
            rows.append(_compare(once, theirs, TARGETS[op], "the reference"))
            rows.append(
                Row(once.name + ", against raw", once.median_s, _raw_share(once, floor))
            )
    return rows


def _raw_share(row: Row, raw: Row) -> str:
    assert row.median_s
    assert raw.median_s
    share = raw.median_s / row.median_s
    verdict = "met" if share >= RAW_TARGET else "MISSED"
    return f"{share:6.1%} of the raw limit (target ≥ {RAW_TARGET:.0%}: {verdict})"


def profile(op: str, *, seconds: float = 2.0, limit: int = 25) -> None:
    """Print our hottest functions (cumulative) for one operation."""
    issuer = PrivateKey(KeyAlgorithm.P256, bytes.fromhex("5a" * 32))
    holder = PrivateKey(KeyAlgorithm.P256, bytes.fromhex("a5" * 32))
    ours = _Ours(issuer, holder)
    func = getattr(ours, op)
    profiler = cProfile.Profile()
    calls = 0
    deadline = time.perf_counter() + seconds
    profiler.enable()
    while time.perf_counter() < deadline:
        func()
        calls += 1
    profiler.disable()
    print(f"did_vault {op}: {calls} calls in {seconds:.1f} s")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(limit)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sd_jwt", description=__doc__)
    parser.add_argument("--repeats", type=int, default=7, help="batches per row")
    parser.add_argument("--target-ms", type=float, default=60.0, help="time per batch")
    parser.add_argument(
        "--profile",
        choices=("issue", "issue_once", "present", "present_once", "verify"),
        help="profile ours",
    )
    args = parser.parse_args(argv)
    if args.profile:
        profile(args.profile)
        return 0
    started = time.perf_counter()
    print(environment())
    rows = sd_jwt_rows(repeats=args.repeats, target_s=args.target_ms / 1000)
    print(render(rows))
    print(
        f"(median of {args.repeats} batches per row; ES256 throughout; "
        f"total {time.perf_counter() - started:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
