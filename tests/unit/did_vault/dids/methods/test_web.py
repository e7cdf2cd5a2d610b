"""did:web: DID ↔ URL, document generation, and resolution through a fetcher.

The last tests run a real HTTPS server on 127.0.0.1 with a certificate made here.
"""

import datetime
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest

from cli.localtls import local_certificates
from did_vault.dids._fetch import HttpxFetcher
from did_vault.dids.did import DID
from did_vault.dids.document import DIDDocument, Service
from did_vault.dids.methods.web import (
    WebResolver,
    build_did_web_document,
    create_did_web,
    did_web_url,
)
from did_vault.errors import (
    DIDNotFoundError,
    ForbiddenHostError,
    InvalidDIDDocumentError,
    InvalidDIDError,
    ResolutionError,
    ResponseTooLargeError,
    UnsupportedDIDMethodError,
)
from did_vault.keys import KeyAlgorithm, PrivateKey


@pytest.mark.parametrize(
    ("did", "url"),
    [
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        (
            "did:web:w3c-ccg.github.io:user:alice",
            "https://w3c-ccg.github.io/user/alice/did.json",
        ),
        ("did:web:example.com%3A3000", "https://example.com:3000/.well-known/did.json"),
        (
            "did:web:example.com%3a3000:user:alice",
            "https://example.com:3000/user/alice/did.json",
        ),
        ("did:web:example.com:a%20b", "https://example.com/a%20b/did.json"),
    ],
)
def test_did_web_url_follows_the_spec_transformation(did, url):
    assert did_web_url(did) == url


@pytest.mark.parametrize(
    "did",
    [
        pytest.param("did:web:exa_mple.com", id="underscore-in-domain"),
        pytest.param("did:web:-example.com", id="leading-hyphen"),
        pytest.param("did:web:example..com", id="empty-label"),
        pytest.param("did:web:example.com%3A", id="empty-port"),
        pytest.param("did:web:example.com%3A0", id="port-zero"),
        pytest.param("did:web:example.com%3A65536", id="port-too-big"),
        pytest.param("did:web:example.com%3A80%3A81", id="two-ports"),
        pytest.param("did:web:example.com%3Aabc", id="port-not-digits"),
        pytest.param("did:web:exa%6Dple.com", id="percent-encoded-domain"),
        pytest.param("did:web:%31%32%37.0.0.1", id="percent-encoded-ip"),
        pytest.param("did:web:example.com:..:admin", id="dot-dot-segment"),
        pytest.param("did:web:example.com:.", id="dot-segment"),
        pytest.param("did:web:example.com::alice", id="empty-segment"),
        pytest.param("did:web:", id="empty"),
        pytest.param("did:web:example.com#key-1", id="did-url"),
    ],
)
def test_did_web_url_rejects_malformed_did_web_with_did_invalid(did):
    with pytest.raises(InvalidDIDError) as exc_info:
        did_web_url(did)

    assert exc_info.value.code == "did.invalid"


def test_did_web_url_rejects_another_method_with_method_unsupported():
    with pytest.raises(UnsupportedDIDMethodError) as exc_info:
        did_web_url("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")

    assert exc_info.value.code == "did.method-unsupported"


def test_create_did_web_encodes_port_and_path():
    did = create_did_web("Registry.Example", ["issuers", "acme"], port=8443)

    assert did == DID("web", "registry.example%3A8443:issuers:acme")
    assert did_web_url(did) == "https://registry.example:8443/issuers/acme/did.json"


@pytest.mark.parametrize(
    ("domain", "path", "port"),
    [
        pytest.param("exa mple.com", (), None, id="space"),
        pytest.param("example.com", ("a/b",), None, id="slash-in-segment"),
        pytest.param("example.com", ("..",), None, id="dot-dot"),
        pytest.param("example.com", (), 0, id="port-zero"),
        pytest.param("example.com/x", (), None, id="path-in-domain"),
    ],
)
def test_create_did_web_rejects_bad_parts_with_did_invalid(domain, path, port):
    with pytest.raises(InvalidDIDError) as exc_info:
        create_did_web(domain, path, port=port)

    assert exc_info.value.code == "did.invalid"


def test_create_did_web_refuses_a_string_path():
    with pytest.raises(TypeError):
        create_did_web("example.com", "user")


def test_build_did_web_document_lists_each_key_under_the_relationships():
    ed = PrivateKey.generate(KeyAlgorithm.ED25519).public_key
    p256 = PrivateKey.generate(KeyAlgorithm.P256).public_key
    service = Service(
        id="did:web:registry.example#status",
        type="StatusList",
        service_endpoint="https://registry.example/status",
    )

    document = build_did_web_document(
        "registry.example",
        keys=[ed, p256],
        relationships=["assertionMethod"],
        services=[service],
        also_known_as=["https://registry.example"],
    )

    data = document.to_json()
    assert data["id"] == "did:web:registry.example"
    assert data["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
    ]
    ids = [f"did:web:registry.example#{key.to_multikey()}" for key in (ed, p256)]
    assert [vm["id"] for vm in data["verificationMethod"]] == ids
    assert {vm["type"] for vm in data["verificationMethod"]} == {"Multikey"}
    assert data["assertionMethod"] == ids
    assert "authentication" not in data
    assert data["service"][0]["serviceEndpoint"] == "https://registry.example/status"
    assert data["alsoKnownAs"] == ["https://registry.example"]
    assert (
        document.find_verification_method(
            ids[1], relationship="assertionMethod"
        ).public_key()
        == p256
    )


def test_build_did_web_document_round_trips_through_json():
    key = PrivateKey.generate().public_key
    document = build_did_web_document("example.com", ["user", "alice"], keys=[key])

    again = DIDDocument.from_json(json.dumps(document.to_json()))

    assert again == document
    assert again.id == "did:web:example.com:user:alice"
    assert again.methods_for("authentication")[0].public_key() == key


def test_build_did_web_document_needs_a_key():
    with pytest.raises(ValueError, match="at least one key"):
        build_did_web_document("example.com", keys=[])


def test_build_did_web_document_rejects_an_unknown_relationship():
    key = PrivateKey.generate().public_key

    with pytest.raises(ValueError, match="unknown verification relationships"):
        build_did_web_document("example.com", keys=[key], relationships=["signing"])  # type: ignore[list-item]


class StaticFetcher:
    def __init__(self, body: bytes = b"", error: Exception | None = None) -> None:
        self.body, self.error = body, error
        self.urls: list[str] = []

    def fetch(self, url: str) -> bytes:
        self.urls.append(url)
        if self.error is not None:
            raise self.error
        return self.body


def _document_bytes(domain: str = "example.com", path=()) -> bytes:
    key = PrivateKey.generate().public_key
    document = build_did_web_document(domain, path, keys=[key])
    return json.dumps(document.to_json()).encode()


def test_web_resolver_fetches_the_did_url_and_returns_the_document():
    fetcher = StaticFetcher(_document_bytes("example.com", ["user", "alice"]))

    document = WebResolver(fetcher).resolve("did:web:example.com:user:alice")

    assert fetcher.urls == ["https://example.com/user/alice/did.json"]
    assert document.id == "did:web:example.com:user:alice"


def test_web_resolver_rejects_a_document_for_another_did():
    fetcher = StaticFetcher(_document_bytes("other.example"))

    with pytest.raises(InvalidDIDDocumentError) as exc_info:
        WebResolver(fetcher).resolve("did:web:example.com")

    assert exc_info.value.code == "did.document-invalid"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"not json", id="not-json"),
        pytest.param(b"[]", id="array"),
        pytest.param(b'{"id": "not a did"}', id="bad-id"),
        pytest.param(b"\xff\xfe", id="not-utf8"),
        pytest.param(
            b'{"id": "did:web:example.com", "verificationMethod": [{"id": "#k", '
            b'"type": "Multikey", "controller": "did:web:example.com", '
            b'"publicKeyMultibase": "z6Mk", "publicKeyJwk": {}}]}',
            id="method-with-two-keys",
        ),
    ],
)
def test_web_resolver_rejects_a_body_that_is_not_a_did_document(body):
    with pytest.raises(InvalidDIDDocumentError) as exc_info:
        WebResolver(StaticFetcher(body)).resolve("did:web:example.com")

    assert exc_info.value.code == "did.document-invalid"


@pytest.mark.parametrize("status", [404, 410])
def test_web_resolver_maps_404_and_410_to_did_not_found(status):
    fetcher = StaticFetcher(error=ResolutionError("HTTP error", status=status))

    with pytest.raises(DIDNotFoundError) as exc_info:
        WebResolver(fetcher).resolve("did:web:example.com")

    assert exc_info.value.code == "did.not-found"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ResolutionError("HTTP error", status=500), "did.resolution-failed"),
        (ForbiddenHostError("no"), "did.host-forbidden"),
        (ResponseTooLargeError("big"), "did.response-too-large"),
    ],
)
def test_web_resolver_passes_other_fetch_errors_through(error, code):
    with pytest.raises(ResolutionError) as exc_info:
        WebResolver(StaticFetcher(error=error)).resolve("did:web:example.com")

    assert exc_info.value.code == code


SSRF_DIDS = {
    "ipv4-literal": "did:web:127.0.0.1",
    "ipv4-literal-port": "did:web:127.0.0.1%3A8443",
    "decimal-literal": "did:web:2130706433",
    "octal-literal": "did:web:0177.0.0.1",
    "hex-literal": "did:web:0x7f000001",
    "short-literal": "did:web:127.1",
    "metadata-literal": "did:web:169.254.169.254:latest:meta-data",
    "private-literal": "did:web:10.0.0.1",
    "public-literal": "did:web:93.184.216.34",
    "localhost-name": "did:web:localhost",
    "name-to-private": "did:web:internal.example",
    "name-to-link-local": "did:web:metadata.example",
    "name-to-mapped-loopback": "did:web:mapped.example",
}


@pytest.mark.parametrize(
    "did", [pytest.param(did, id=name) for name, did in SSRF_DIDS.items()]
)
def test_web_resolution_refuses_every_ssrf_form_with_host_forbidden(did):
    requests: list[httpx.Request] = []
    answers = {
        "localhost": ["127.0.0.1"],
        "internal.example": ["192.168.1.10"],
        "metadata.example": ["169.254.169.254"],
        "mapped.example": ["::ffff:127.0.0.1"],
    }

    def record(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, content=b"{}")

    fetcher = HttpxFetcher(
        transport=httpx.MockTransport(record),
        resolve=lambda host, port: answers[host],
    )

    with pytest.raises(ForbiddenHostError) as exc_info:
        WebResolver(fetcher).resolve(did)

    assert exc_info.value.code == "did.host-forbidden"
    assert requests == []


# --- a real HTTPS server on 127.0.0.1 ---------------------------------------------


def _certificates() -> tuple[bytes, bytes, bytes]:
    """A CA certificate and a 'localhost' leaf (cert, key) it signed, as PEM."""
    return local_certificates("did_vault test CA", lifetime=datetime.timedelta(hours=1))


class LocalHTTPS:
    def __init__(self, port: int, ca_pem: bytes, documents: dict[str, bytes]) -> None:
        self.port, self.ca_pem, self.documents = port, ca_pem, documents

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cadata=self.ca_pem.decode("ascii"))


@pytest.fixture
def https_server(tmp_path) -> Iterator[LocalHTTPS]:
    ca_pem, cert_pem, key_pem = _certificates()
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    documents: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = documents.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/did+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LocalHTTPS(server.server_address[1], ca_pem, documents)
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def _publish(server: LocalHTTPS, path: tuple[str, ...] = ()) -> DIDDocument:
    key = PrivateKey.generate().public_key
    document = build_did_web_document("localhost", path, keys=[key], port=server.port)
    url_path = "/" + "/".join(path) if path else "/.well-known"
    server.documents[f"{url_path}/did.json"] = json.dumps(document.to_json()).encode()
    return document


def test_resolves_did_web_over_real_https_on_loopback(https_server):
    published = _publish(https_server, ("user", "alice"))
    fetcher = HttpxFetcher(
        allow_loopback=True,
        verify=https_server.client_context(),
        resolve=lambda host, port: ["127.0.0.1"],
    )

    document = WebResolver(fetcher).resolve(published.id)

    assert document == published
    assert published.id == f"did:web:localhost%3A{https_server.port}:user:alice"


def test_real_https_unknown_did_is_not_found(https_server):
    fetcher = HttpxFetcher(
        allow_loopback=True,
        verify=https_server.client_context(),
        resolve=lambda host, port: ["127.0.0.1"],
    )

    with pytest.raises(DIDNotFoundError) as exc_info:
        WebResolver(fetcher).resolve(f"did:web:localhost%3A{https_server.port}:nobody")

    assert exc_info.value.code == "did.not-found"


def test_real_https_refuses_a_certificate_from_an_untrusted_ca(https_server):
    published = _publish(https_server)
    other_ca, _, _ = _certificates()
    fetcher = HttpxFetcher(
        allow_loopback=True,
        verify=ssl.create_default_context(cadata=other_ca.decode("ascii")),
        resolve=lambda host, port: ["127.0.0.1"],
    )

    with pytest.raises(ResolutionError) as exc_info:
        WebResolver(fetcher).resolve(published.id)

    assert exc_info.value.code == "did.resolution-failed"


def test_real_https_refuses_loopback_without_allow_loopback(https_server):
    published = _publish(https_server)
    fetcher = HttpxFetcher(
        verify=https_server.client_context(),
        resolve=lambda host, port: ["127.0.0.1"],
    )

    with pytest.raises(ForbiddenHostError) as exc_info:
        WebResolver(fetcher).resolve(published.id)

    assert exc_info.value.code == "did.host-forbidden"
