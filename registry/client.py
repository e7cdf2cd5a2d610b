"""A small typed HTTP client for the registry service (used by the command line).

It speaks the registry's JSON and turns every problem answer into a
``RegistryProblem`` carrying the server's ``code``, so the caller can print the code
and a message a person can act on.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from registry.log_models import (
    ConsistencyProofPublic,
    InclusionProofPublic,
    LeavesPublic,
    LoggedRegistrationPublic,
)
from registry.models import (
    ChallengePublic,
    ItemPublic,
    ItemsPublic,
    NoncePublic,
    PrincipalPublic,
    TokenPublic,
)

SignChallenge = Callable[[str, str], Mapping[str, Any]]
"""``(challenge, audience) -> presentation`` signed by the DID authenticating."""

DEFAULT_TIMEOUT = 10.0


@dataclass
class RegistryProblem(Exception):  # noqa: N818 - it is the server's problem, re-raised
    """A problem (RFC 9457) the registry answered, or a transport failure."""

    status: int
    code: str
    title: str
    detail: str | None

    def __str__(self) -> str:
        return f"[{self.code}] {self.detail or self.title}"

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "title": self.title, "detail": self.detail}


class RegistryClient:
    """Calls to one registry over an ``httpx.Client`` (its base URL set)."""

    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    @classmethod
    def connect(
        cls, base_url: str, *, timeout: float = DEFAULT_TIMEOUT
    ) -> "RegistryClient":
        return cls(httpx.Client(base_url=base_url, timeout=timeout))

    def close(self) -> None:
        self._http.close()

    def challenge(self, did: str) -> ChallengePublic:
        """Raises: RegistryProblem."""
        body = self._call("POST", "/v1/auth/challenge", json={"did": did})
        return ChallengePublic.model_validate(body)

    def token(self, challenge: str, presentation: Mapping[str, Any]) -> TokenPublic:
        """Raises: RegistryProblem (``auth.*`` codes among others)."""
        body = self._call(
            "POST",
            "/v1/auth/token",
            json={"challenge": challenge, "presentation": dict(presentation)},
        )
        return TokenPublic.model_validate(body)

    def me(self, access_token: str) -> PrincipalPublic:
        """Raises: RegistryProblem."""
        body = self._call("GET", "/v1/auth/me", token=access_token)
        return PrincipalPublic.model_validate(body)

    def authenticate(self, did: str, sign: SignChallenge) -> TokenPublic:
        """The whole DID-auth exchange: challenge, signed answer, access token.

        Raises: RegistryProblem.
        """
        issued = self.challenge(did)
        return self.token(issued.challenge, sign(issued.challenge, issued.audience))

    def nonce(self, access_token: str) -> NoncePublic:
        """A nonce (and the audience) for an SD-JWT VC presentation.

        Raises: RegistryProblem.
        """
        body = self._call("POST", "/v1/items/nonce", token=access_token)
        return NoncePublic.model_validate(body)

    def register_item(
        self,
        access_token: str,
        *,
        credential: Mapping[str, Any] | None = None,
        sd_jwt: str | None = None,
        nonce: str | None = None,
        self_asserted: Mapping[str, Any] | None = None,
        acquisition: Mapping[str, Any] | None = None,
    ) -> LoggedRegistrationPublic:
        """Register an item from one of the three forms (see ``POST /v1/items``).

        Raises: RegistryProblem (``item.already-registered``, ``issuer.*`` …).
        """
        request: dict[str, Any] = {}
        if credential is not None:
            request["credential"] = dict(credential)
        if sd_jwt is not None:
            request["sd_jwt"] = sd_jwt
            request["nonce"] = nonce
        if self_asserted is not None:
            request["self_asserted"] = dict(self_asserted)
        if acquisition is not None:
            request["acquisition"] = dict(acquisition)
        body = self._call("POST", "/v1/items", json=request, token=access_token)
        return LoggedRegistrationPublic.model_validate(body)

    def list_items(self, access_token: str) -> ItemsPublic:
        """Raises: RegistryProblem."""
        body = self._call("GET", "/v1/items", token=access_token)
        return ItemsPublic.model_validate(body)

    def get_item(self, access_token: str, item_id: str) -> ItemPublic:
        """Raises: RegistryProblem (``item.not-found`` for another owner's item)."""
        body = self._call("GET", f"/v1/items/{item_id}", token=access_token)
        return ItemPublic.model_validate(body)

    # --- transparency log (public) -------------------------------------------------

    def log_checkpoint(self, tree_size: int | None = None) -> str:
        """The latest signed checkpoint note, or that of ``tree_size``.

        Raises: RegistryProblem (``log.checkpoint-not-found``).
        """
        path = "/v1/log/checkpoint"
        return self._get_text(path if tree_size is None else f"{path}/{tree_size}")

    def log_consistency(self, old_size: int, new_size: int) -> ConsistencyProofPublic:
        """Raises: RegistryProblem (``log.range-invalid``)."""
        body = self._call(
            "GET",
            f"/v1/log/proof/consistency?old_size={old_size}&new_size={new_size}",
        )
        return ConsistencyProofPublic.model_validate(body)

    def log_inclusion(self, leaf_index: int, tree_size: int) -> InclusionProofPublic:
        """Raises: RegistryProblem (``log.range-invalid``)."""
        body = self._call(
            "GET",
            f"/v1/log/proof/inclusion?leaf_index={leaf_index}&tree_size={tree_size}",
        )
        return InclusionProofPublic.model_validate(body)

    def log_leaves(self, start: int, end: int) -> LeavesPublic:
        """Raises: RegistryProblem (``log.range-invalid``)."""
        body = self._call("GET", f"/v1/log/leaves?start={start}&end={end}")
        return LeavesPublic.model_validate(body)

    def did_document(self) -> dict[str, Any]:
        """The registry's did:web document (``/.well-known/did.json``).

        Raises: RegistryProblem.
        """
        body = self._call("GET", "/.well-known/did.json")
        if not isinstance(body, dict):
            raise RegistryProblem(0, "registry.error", "Not a DID document", None)
        return body

    def _get_text(self, path: str) -> str:
        try:
            response = self._http.get(path)
        except httpx.HTTPError as exc:
            raise RegistryProblem(
                0, "registry.unreachable", "Registry unreachable", type(exc).__name__
            ) from exc
        if response.is_success:
            return response.text
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        if not isinstance(problem, dict):
            problem = {}
        detail = problem.get("detail")
        raise RegistryProblem(
            status=response.status_code,
            code=str(problem.get("code", "internal")),
            title=str(problem.get("title", response.reason_phrase)),
            detail=detail if isinstance(detail, str) else None,
        )

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        token: str | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            response = self._http.request(method, path, json=json, headers=headers)
        except httpx.HTTPError as exc:
            raise RegistryProblem(
                0, "registry.unreachable", "Registry unreachable", type(exc).__name__
            ) from exc
        if response.is_success:
            return response.json()
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        if not isinstance(problem, dict):
            problem = {}
        raise RegistryProblem(
            status=response.status_code,
            code=str(problem.get("code", "internal")),
            title=str(problem.get("title", response.reason_phrase)),
            detail=problem.get("detail")
            if isinstance(problem.get("detail"), str)
            else None,
        )
