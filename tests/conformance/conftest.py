"""Conformance vectors run under both Ed25519 verification backends.

did_vault verifies Ed25519 through libsodium by default
(``did_vault.keys.DEFAULT_VERIFY_BACKEND``) and through OpenSSL on request; every
vector file here is run once per backend, so both stay proven against the published
vectors.
"""

import pytest

from did_vault import keys


@pytest.fixture(autouse=True, params=["sodium", "cryptography"])
def verify_backend(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> str:
    monkeypatch.setattr(keys, "DEFAULT_VERIFY_BACKEND", request.param)
    return str(request.param)
