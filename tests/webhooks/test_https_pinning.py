"""https to the checked address: the connection goes to the pinned IP while SNI and the
certificate check keep the URL's host name."""

from __future__ import annotations

import datetime
import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from vigie.webhooks import outbound

HOST = "hooks.partner.example"


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _cert(subject, issuer, key, signer, *, ca: bool, dns: str | None = None):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if dns:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(dns)]), False)
    return builder.sign(signer, hashes.SHA256())


@pytest.fixture
def tls_server(tmp_path):
    """An https server on 127.0.0.1 with a certificate for `name`; records SNI and Host."""
    servers = []

    def start(name: str):
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _cert(_name("Test CA"), _name("Test CA"), ca_key, ca_key, ca=True)
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _cert(_name(name), _name("Test CA"), key, ca_key, ca=False, dns=name)
        (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (tmp_path / "key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        seen: dict[str, list[str]] = {"sni": [], "host": []}

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                seen["host"].append(self.headers["Host"])
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
        context.sni_callback = lambda sock, server_name, ctx: seen["sni"].append(server_name)
        server = HTTPServer(("127.0.0.1", 0), Handler)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1], str(tmp_path / "ca.pem"), seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_https_goes_to_the_checked_address_with_sni_and_host_kept(tls_server, monkeypatch):
    port, ca, seen = tls_server(HOST)
    lookups = []
    monkeypatch.setattr(outbound, "resolve", lambda host, p: lookups.append(host) or ["127.0.0.1"])
    client = outbound.Client(outbound.Policy(allow_private=True), verify=ca)
    result = client.post(f"https://{HOST}:{port}/hook", body=b"{}", headers={})
    assert result.status == 204, result
    assert lookups == [HOST]  # one lookup, ours; the TLS stack made none
    assert seen["sni"] == [HOST]
    assert seen["host"] == [f"{HOST}:{port}"]


def test_a_certificate_for_another_name_is_a_tls_error(tls_server, monkeypatch):
    port, ca, seen = tls_server("someone-else.example")
    monkeypatch.setattr(outbound, "resolve", lambda host, p: ["127.0.0.1"])
    client = outbound.Client(outbound.Policy(allow_private=True), verify=ca)
    result = client.post(f"https://{HOST}:{port}/hook", body=b"{}", headers={})
    assert result.status is None
    assert result.error == "tls_error"
    assert seen["host"] == []
