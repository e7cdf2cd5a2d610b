"""Selective disclosure: SD-JWT (RFC 9901) and SD-JWT VC (draft-ietf-oauth-sd-jwt-vc).

One protocol role per module: :mod:`~did_vault.sd_jwt.issuer` issues,
:mod:`~did_vault.sd_jwt.holder` parses and presents with Key Binding,
:mod:`~did_vault.sd_jwt.verifier` verifies; :mod:`~did_vault.sd_jwt.disclosure` holds
the Disclosure format and :mod:`~did_vault.sd_jwt.nonces` the single-use nonces.
"""

from did_vault.sd_jwt.disclosure import (
    ARRAY_DIGEST_KEY,
    DEFAULT_SD_ALG,
    SD_ALG_KEY,
    SD_DIGESTS_KEY,
    ClaimPath,
    Disclosure,
    SaltSource,
)
from did_vault.sd_jwt.holder import (
    KB_JWT_TYP,
    SDJWT,
    from_json,
    present,
    to_json,
)
from did_vault.sd_jwt.issuer import (
    DEFAULT_DECOY_BUCKET,
    NEVER_DISCLOSABLE,
    SD_JWT_VC_TYP,
    issue_sd_jwt,
    issue_sd_jwt_vc,
)
from did_vault.sd_jwt.nonces import InMemoryNonceStore, NonceState, NonceStore
from did_vault.sd_jwt.verifier import (
    IssuerKeyResolver,
    TokenStatusCheck,
    VerifiedSDJWT,
    verify_sd_jwt,
)

__all__ = [
    "ARRAY_DIGEST_KEY",
    "DEFAULT_DECOY_BUCKET",
    "DEFAULT_SD_ALG",
    "KB_JWT_TYP",
    "NEVER_DISCLOSABLE",
    "SDJWT",
    "SD_ALG_KEY",
    "SD_DIGESTS_KEY",
    "SD_JWT_VC_TYP",
    "ClaimPath",
    "Disclosure",
    "InMemoryNonceStore",
    "IssuerKeyResolver",
    "NonceState",
    "NonceStore",
    "SaltSource",
    "TokenStatusCheck",
    "VerifiedSDJWT",
    "from_json",
    "issue_sd_jwt",
    "issue_sd_jwt_vc",
    "present",
    "to_json",
    "verify_sd_jwt",
]
