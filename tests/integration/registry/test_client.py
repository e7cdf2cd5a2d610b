"""The typed client against the app: results parsed, problems raised with codes."""

import pytest

from registry.client import RegistryClient, RegistryProblem


def test_client_authenticates_and_reads_principal(client, holder):
    registry = RegistryClient(client)
    issued = registry.challenge(holder.did)
    answer = holder.answer(issued.challenge, domain=issued.audience)

    token = registry.token(issued.challenge, answer)

    assert registry.me(token.access_token).did == holder.did


def test_client_raises_problem_with_code(client, holder):
    registry = RegistryClient(client)
    issued = registry.challenge(holder.did)
    answer = holder.answer(issued.challenge, domain=issued.audience)
    registry.token(issued.challenge, answer)

    with pytest.raises(RegistryProblem) as info:
        registry.token(issued.challenge, answer)

    assert info.value.status == 401
    assert info.value.code == "auth.challenge-replayed"
