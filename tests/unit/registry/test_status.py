"""Status-list index permutation and URLs."""

import pytest

from did_vault import KeyAlgorithm, PrivateKey
from registry.identity import RegistryIdentity
from registry.models import StatusListKind
from registry.status import list_url, permute, token_reference


@pytest.mark.parametrize("length", [2, 3, 1000, 4096, 5000])
def test_permute_is_a_bijection_of_the_list(length):
    seed = b"seed-0123456789ab"
    seen = {permute(counter, length=length, seed=seed) for counter in range(length)}
    assert seen == set(range(length))


def test_permute_depends_on_the_seed_and_scatters():
    order_a = [permute(c, length=4096, seed=b"a" * 16) for c in range(16)]
    order_b = [permute(c, length=4096, seed=b"b" * 16) for c in range(16)]
    assert order_a != order_b
    assert order_a != sorted(order_a)


def test_permute_refuses_counters_outside_the_list():
    with pytest.raises(ValueError, match="outside"):
        permute(10, length=10, seed=b"s" * 16)


def test_list_urls_follow_the_did_web_host():
    key = PrivateKey(KeyAlgorithm.ED25519, bytes(32))
    identity = RegistryIdentity.from_key(key, domain="registry.example", port=8443)
    assert (
        list_url(identity, StatusListKind.BITSTRING, 3)
        == "https://registry.example:8443/v1/status/bitstring/3"
    )
    assert token_reference(identity, number=1, index=5) == {
        "status_list": {
            "idx": 5,
            "uri": "https://registry.example:8443/v1/status/token/1",
        }
    }
