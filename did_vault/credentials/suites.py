"""Data Integrity cryptosuites: which canonicalization and key type each name means.

``eddsa-jcs-2022`` (W3C vc-di-eddsa §3.3) and ``ecdsa-jcs-2019`` (W3C vc-di-ecdsa §3.3,
P-256 only) canonicalize with RFC 8785 JCS and carry the document's ``@context`` in
the proof itself. ``eddsa-rdfc-2022`` (vc-di-eddsa §3.2) and ``ecdsa-rdfc-2019``
(vc-di-ecdsa §3.2) canonicalize with RDFC-1.0 over the pinned, offline contexts. All
suites here hash with SHA-256 (the P-256 and Ed25519 choice of both specs) and sign
the 64-byte ``proofConfigHash || documentHash``.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from did_vault.credentials.rdfc import canonicalize_rdfc
from did_vault.errors import UnsupportedCryptosuiteError
from did_vault.keys import KeyAlgorithm
from did_vault.primitives.jcs import canonicalize as canonicalize_jcs

EDDSA_JCS_2022 = "eddsa-jcs-2022"
ECDSA_JCS_2019 = "ecdsa-jcs-2019"
EDDSA_RDFC_2022 = "eddsa-rdfc-2022"
ECDSA_RDFC_2019 = "ecdsa-rdfc-2019"


@dataclass(frozen=True, slots=True)
class Cryptosuite:
    """One Data Integrity cryptosuite.

    ``embeds_context``: the created proof carries the document's ``@context`` (the
    JCS suites). For the RDFC suites the proof has none; their proof configuration
    borrows the document's ``@context`` only for hashing.
    """

    name: str
    key_algorithm: KeyAlgorithm
    canonicalize: Callable[[Mapping[str, Any]], bytes]
    embeds_context: bool = True


CRYPTOSUITES: Mapping[str, Cryptosuite] = MappingProxyType(
    {
        suite.name: suite
        for suite in (
            Cryptosuite(EDDSA_JCS_2022, KeyAlgorithm.ED25519, canonicalize_jcs),
            Cryptosuite(ECDSA_JCS_2019, KeyAlgorithm.P256, canonicalize_jcs),
            Cryptosuite(
                EDDSA_RDFC_2022,
                KeyAlgorithm.ED25519,
                canonicalize_rdfc,
                embeds_context=False,
            ),
            Cryptosuite(
                ECDSA_RDFC_2019,
                KeyAlgorithm.P256,
                canonicalize_rdfc,
                embeds_context=False,
            ),
        )
    }
)
"""Every cryptosuite this library creates and verifies, by name (read-only)."""


def get_cryptosuite(name: object) -> Cryptosuite:
    """The cryptosuite of that name.

    Raises:
        UnsupportedCryptosuiteError: no such cryptosuite here (or not a string).
    """
    suite = CRYPTOSUITES.get(name) if isinstance(name, str) else None
    if suite is None:
        raise UnsupportedCryptosuiteError(
            "cryptosuite not supported",
            cryptosuite=str(name)[:64],
            supported=", ".join(sorted(CRYPTOSUITES)),
        )
    return suite
