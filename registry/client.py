"""A small typed HTTP client for the registry service (used by the command line).

It speaks the registry's JSON and turns every problem answer into a
``RegistryProblem`` carrying the server's ``code``, so the caller can print the code
and a message a person can act on.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from registry.log_models import (
    ConsistencyProofPublic,
    CosignaturesPublic,
    InclusionProofPublic,
    LeavesPublic,
    LoggedRegistrationPublic,
)
from registry.models import (
    ChallengePublic,
    CustodiesPublic,
    CustodyPublic,
    InsurerVerification,
    ItemPublic,
    ItemsPublic,
    ItemStatePublic,
    NoncePublic,
    OfferPublic,
    OffersPublic,
    PresentationVerification,
    PrincipalPublic,
    StolenCheckPublic,
    TokenPublic,
    TransferResultPublic,
    TransfersPublic,
)

SignChallenge = Callable[[str, str], Mapping[str, Any]]
"""``(challenge, audience) -> presentation`` signed by the DID authenticating."""

DEFAULT_TIMEOUT = 10.0
IDEMPOTENCY_HEADER = "Idempotency-Key"


def _idempotency(key: str | None) -> dict[str, str]:
    return {IDEMPOTENCY_HEADER: key} if key else {}


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
        """A nonce (and the audience) for a presentation to ``register_item``.

        Raises: RegistryProblem.
        """
        body = self._call("POST", "/v1/items/nonce", token=access_token)
        return NoncePublic.model_validate(body)

    def register_item(
        self,
        access_token: str,
        *,
        presentation: Mapping[str, Any] | None = None,
        sd_jwt: str | None = None,
        nonce: str | None = None,
        self_asserted: Mapping[str, Any] | None = None,
        acquisition: Mapping[str, Any] | None = None,
    ) -> LoggedRegistrationPublic:
        """Register an item from one of the three forms (see ``POST /v1/items``):
        a Data Integrity ``presentation`` or an ``sd_jwt`` presentation, each with
        the ``nonce`` it answers, or ``self_asserted``.

        Raises: RegistryProblem (``item.already-registered``, ``issuer.*``,
        ``item.holder-mismatch`` …).
        """
        request: dict[str, Any] = {}
        if presentation is not None:
            request["presentation"] = dict(presentation)
            request["nonce"] = nonce
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

    def log_submit_cosignatures(self, note: str) -> CosignaturesPublic:
        """Hand a witness-cosigned checkpoint note to the registry.

        Raises: RegistryProblem (``witness.untrusted``, ``log.signature-invalid``,
        ``log.checkpoint-not-found`` …).
        """
        try:
            response = self._http.post(
                "/v1/log/cosignatures",
                content=note.encode("utf-8"),
                headers={"Content-Type": "text/plain; charset=utf-8"},
            )
        except httpx.HTTPError as exc:
            raise RegistryProblem(
                0, "registry.unreachable", "Registry unreachable", type(exc).__name__
            ) from exc
        if response.is_success:
            return CosignaturesPublic.model_validate(response.json())
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

    # --- lifecycle: transfers, custody, missing and stolen, verification ---------

    def create_offer(
        self,
        access_token: str,
        offer: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> OfferPublic:
        """File a seller-signed TransferOfferCredential (``POST /v1/transfers/offers``).

        Raises: RegistryProblem (``transfer.self``, ``transfer.expired``,
        ``transfer.not-owner``, ``transfer.replayed``, ``item.reported-*`` …).
        """
        body = self._call_with(
            "POST",
            "/v1/transfers/offers",
            json={"offer": dict(offer)},
            token=access_token,
            headers=_idempotency(idempotency_key),
        )
        return OfferPublic.model_validate(body)

    def get_offer(self, access_token: str, offer_id: str) -> OfferPublic:
        """An offer, for its seller or buyer.

        Raises: RegistryProblem (``transfer.offer-not-found``).
        """
        body = self._call("GET", f"/v1/transfers/offers/{offer_id}", token=access_token)
        return OfferPublic.model_validate(body)

    def claim_offer(
        self, access_token: str, offer_id: str, claim_code: str
    ) -> OfferPublic:
        """An offer made to a claim code, read with the code (nothing is spent).

        Raises: RegistryProblem (``transfer.claim-code-invalid``,
        ``transfer.offer-not-found``, ``transfer.replayed``, ``transfer.self``).
        """
        body = self._call(
            "POST",
            f"/v1/transfers/offers/{offer_id}/claim",
            json={"claim_code": claim_code},
            token=access_token,
        )
        return OfferPublic.model_validate(body)

    def list_offers(self, access_token: str) -> OffersPublic:
        """Open offers the caller made or received.

        Raises: RegistryProblem.
        """
        body = self._call("GET", "/v1/transfers/offers", token=access_token)
        return OffersPublic.model_validate(body)

    def accept_offer(
        self,
        access_token: str,
        offer_id: str,
        acceptance: Mapping[str, Any],
        *,
        claim_code: str | None = None,
        idempotency_key: str | None = None,
    ) -> TransferResultPublic:
        """Accept an offer with a buyer-signed TransferAcceptanceCredential (and, for
        an offer to a claim code, the code); the answer carries the buyer's
        OwnershipCredential in both forms.

        Raises: RegistryProblem (``transfer.mismatch``, ``transfer.expired``,
        ``transfer.replayed``, ``transfer.claim-code-invalid``,
        ``item.already-transferred``, ``item.reported-*`` …).
        """
        payload: dict[str, Any] = {"acceptance": dict(acceptance)}
        if claim_code is not None:
            payload["claim_code"] = claim_code
        body = self._call_with(
            "POST",
            f"/v1/transfers/offers/{offer_id}/accept",
            json=payload,
            token=access_token,
            headers=_idempotency(idempotency_key),
        )
        return TransferResultPublic.model_validate(body)

    def transfers(self, access_token: str) -> TransfersPublic:
        """Transfers the caller sold or bought.

        Raises: RegistryProblem.
        """
        body = self._call("GET", "/v1/transfers", token=access_token)
        return TransfersPublic.model_validate(body)

    def item_state(self, access_token: str, item_id: str) -> ItemStatePublic:
        """The item's lifecycle state and ``etag`` (owner or trusted confirmer).

        Raises: RegistryProblem (``item.not-found``).
        """
        body = self._call("GET", f"/v1/items/{item_id}/state", token=access_token)
        return ItemStatePublic.model_validate(body)

    def _etag(self, access_token: str, item_id: str, if_match: str | None) -> str:
        return if_match or self.item_state(access_token, item_id).etag

    def report_missing(
        self,
        access_token: str,
        item_id: str,
        report: Mapping[str, Any] | None = None,
        *,
        if_match: str | None = None,
    ) -> ItemStatePublic:
        """The owner reports the item missing (``loss_date``, ``place``,
        ``description``); without ``if_match`` the current ETag is fetched first.

        Raises: RegistryProblem (``report.state-invalid``, ``precondition.failed``).
        """
        body = self._call_with(
            "POST",
            f"/v1/items/{item_id}/missing",
            json=dict(report or {}),
            token=access_token,
            headers={"If-Match": self._etag(access_token, item_id, if_match)},
        )
        return ItemStatePublic.model_validate(body)

    def confirm_stolen(
        self,
        access_token: str,
        item_id: str,
        report: Mapping[str, Any],
        *,
        if_match: str | None = None,
    ) -> ItemStatePublic:
        """A trusted police or insurer DID confirms the item stolen (``reported_at``,
        ``police_report_number``, ``place``, ``description``).

        Raises: RegistryProblem (``auth.forbidden``, ``report.state-invalid`` …).
        """
        body = self._call_with(
            "POST",
            f"/v1/items/{item_id}/stolen",
            json=dict(report),
            token=access_token,
            headers={"If-Match": self._etag(access_token, item_id, if_match)},
        )
        return ItemStatePublic.model_validate(body)

    def mark_recovered(
        self, access_token: str, item_id: str, *, if_match: str | None = None
    ) -> ItemStatePublic:
        """The owner or a trusted confirmer clears a missing or stolen report.

        Raises: RegistryProblem (``report.state-invalid`` …).
        """
        body = self._call_with(
            "POST",
            f"/v1/items/{item_id}/recovered",
            token=access_token,
            headers={"If-Match": self._etag(access_token, item_id, if_match)},
        )
        return ItemStatePublic.model_validate(body)

    def recovered(
        self, access_token: str, item_id: str, *, if_match: str | None = None
    ) -> ItemStatePublic:
        """Alias of :meth:`mark_recovered`.

        Raises: RegistryProblem.
        """
        return self.mark_recovered(access_token, item_id, if_match=if_match)

    def check_stolen(
        self,
        *,
        gtin: str | None = None,
        serial: str | None = None,
        digital_link: str | None = None,
    ) -> StolenCheckPublic:
        """The public stolen-check: ``clear``, ``reported_stolen`` or ``unknown``.

        Raises: RegistryProblem (``rate.limited`` …).
        """
        request = {
            name: value
            for name, value in (
                ("gtin", gtin),
                ("serial", serial),
                ("digital_link", digital_link),
            )
            if value is not None
        }
        body = self._call("POST", "/v1/stolen-check", json=request)
        return StolenCheckPublic.model_validate(body)

    def start_custody(
        self,
        access_token: str,
        item_id: str,
        *,
        custodian: str,
        purpose: str,
        note: str = "",
        expected_back: datetime | None = None,
        if_match: str | None = None,
    ) -> CustodyPublic:
        """Hand the item to a custodian (``repair``, ``loan``, ``storage``).

        Raises: RegistryProblem (``custody.state-invalid`` …).
        """
        request: dict[str, Any] = {
            "custodian": custodian,
            "purpose": purpose,
            "note": note,
        }
        if expected_back is not None:
            request["expected_back"] = expected_back.isoformat()
        body = self._call_with(
            "POST",
            f"/v1/items/{item_id}/custody",
            json=request,
            token=access_token,
            headers={"If-Match": self._etag(access_token, item_id, if_match)},
        )
        return CustodyPublic.model_validate(body)

    def end_custody(
        self, access_token: str, item_id: str, *, if_match: str
    ) -> CustodyPublic:
        """The owner or the custodian records the return (``if_match``: the ETag
        from the owner's :meth:`item_state`).

        Raises: RegistryProblem (``custody.state-invalid`` …).
        """
        body = self._call_with(
            "POST",
            f"/v1/items/{item_id}/custody/return",
            token=access_token,
            headers={"If-Match": if_match},
        )
        return CustodyPublic.model_validate(body)

    def custody(self, access_token: str, item_id: str) -> CustodiesPublic:
        """The item's custody history (owner only).

        Raises: RegistryProblem.
        """
        body = self._call("GET", f"/v1/items/{item_id}/custody", token=access_token)
        return CustodiesPublic.model_validate(body)

    def verify_presentation(
        self,
        access_token: str,
        *,
        nonce: str,
        audience: str,
        sd_jwt: str | None = None,
        presentation: Mapping[str, Any] | None = None,
        template: str | None = None,
        dcql: Mapping[str, Any] | None = None,
    ) -> PresentationVerification:
        """A vendor verifies what an owner presented (``audience``: the vendor's
        DID or the registry's), with the registry's facts.

        Raises: RegistryProblem (did_vault's verification codes, ``auth.forbidden``).
        """
        request: dict[str, Any] = {"nonce": nonce, "audience": audience}
        if sd_jwt is not None:
            request["sd_jwt"] = sd_jwt
        if presentation is not None:
            request["presentation"] = dict(presentation)
        if template is not None:
            request["template"] = template
        if dcql is not None:
            request["dcql"] = dict(dcql)
        body = self._call(
            "POST", "/v1/verify/presentation", json=request, token=access_token
        )
        return PresentationVerification.model_validate(body)

    def verify_for_insurer(
        self,
        access_token: str,
        *,
        sd_jwt: str | None = None,
        nonce: str | None = None,
        consent: Mapping[str, Any] | None = None,
        before: datetime | None = None,
    ) -> InsurerVerification:
        """An insurer (the caller) verifies ownership from a presentation bound to
        it (``sd_jwt`` + ``nonce``) or the owner's signed ``consent``.

        Raises: RegistryProblem (``consent.required`` …).
        """
        request: dict[str, Any] = {}
        if sd_jwt is not None:
            request["sd_jwt"] = sd_jwt
            request["nonce"] = nonce
        if consent is not None:
            request["consent"] = dict(consent)
        if before is not None:
            request["before"] = before.isoformat()
        body = self._call(
            "POST", "/v1/verify/insurer", json=request, token=access_token
        )
        return InsurerVerification.model_validate(body)

    def _call_with(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        token: str | None = None,
        headers: Mapping[str, str],
    ) -> Any:
        """As ``_call``, with extra request headers (``If-Match``,
        ``Idempotency-Key``)."""
        sent = {**headers, **({"Authorization": f"Bearer {token}"} if token else {})}
        try:
            response = self._http.request(method, path, json=json, headers=sent)
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
