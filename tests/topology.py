"""The shipped production topology on this machine: nginx (config/nginx/vigie.conf) in front
of a real `vigie serve`, with a self-signed certificate; and slow clients to throw at it.

Used by tests/deploy/ and by bench/slow_clients.py, which writes the figures to
docs/PERFORMANCE.md.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "config" / "nginx" / "vigie.conf"
# The lines of the shipped file a deployment adapts (the file's header lists them).
UPSTREAM, LISTEN, LISTEN_V6 = "server 127.0.0.1:8000;", "listen 443 ssl http2;", "listen [::]:443"
CERTIFICATE, CERTIFICATE_KEY = "/etc/ssl/vigie/fullchain.pem", "/etc/ssl/vigie/privkey.pem"


def nginx_path() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, which clients also use as their CA file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vigie-test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def render(upstream_port: int, port: int, cert: Path, key: Path) -> str:
    """The shipped server configuration with only its deployment lines changed."""
    text = SHIPPED.read_text("utf-8")
    for line in (UPSTREAM, LISTEN, LISTEN_V6, CERTIFICATE, CERTIFICATE_KEY):
        assert line in text, f"{SHIPPED.name} no longer has the line {line!r}"
    kept = [line for line in text.splitlines() if LISTEN_V6 not in line]
    return (
        "\n".join(kept)
        .replace(UPSTREAM, f"server 127.0.0.1:{upstream_port};")
        .replace(LISTEN, f"listen 127.0.0.1:{port} ssl http2;")
        .replace(CERTIFICATE_KEY, str(key))
        .replace(CERTIFICATE, str(cert))
    )


def _main_config(directory: Path, server_conf: Path) -> str:
    """What /etc/nginx/nginx.conf provides around the include, pointed at a temporary folder."""
    user = "user root;" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {directory / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""
{user}
worker_processes 2;
daemon off;
pid {directory / "nginx.pid"};
error_log {directory / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
{temp}
    include {server_conf};
}}
"""


@dataclass
class Proxy:
    url: str  # https://127.0.0.1:PORT
    cafile: Path
    port: int

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cafile))

    def session(self) -> requests.Session:
        """A client that trusts the test certificate (and not REQUESTS_CA_BUNDLE, which
        requests would otherwise prefer to a session's own `verify`)."""
        session = requests.Session()
        session.trust_env = False
        session.verify = str(self.cafile)
        return session


@contextlib.contextmanager
def nginx_in_front(upstream_url: str, directory: Path) -> Iterator[Proxy]:
    """nginx with the shipped configuration, proxying to `upstream_url` (http://127.0.0.1:P)."""
    binary = nginx_path()
    if binary is None:
        raise RuntimeError("nginx is not installed (Debian package nginx-light)")
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = _certificate(directory)
    port = free_port()
    server_conf = directory / "vigie.conf"
    server_conf.write_text(render(int(upstream_url.rsplit(":", 1)[1]), port, cert, key))
    main = directory / "nginx.conf"
    main.write_text(_main_config(directory, server_conf))
    error_log = directory / "error.log"
    process = subprocess.Popen(
        [binary, "-p", str(directory), "-c", str(main), "-e", str(error_log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_listening(port, process, error_log)
        yield Proxy(f"https://127.0.0.1:{port}", cert, port)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_listening(port: int, process: subprocess.Popen[bytes], error_log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(error_log.read_text() if error_log.exists() else "nginx exited")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nginx did not listen on {port}")


def open_slow_client(
    host: str, port: int, context: ssl.SSLContext | None, *, send: bytes
) -> socket.socket:
    """A connection that sends `send` (headers, part of a body) and then nothing."""
    raw = socket.create_connection((host, port), timeout=10)
    sock = context.wrap_socket(raw, server_hostname=host) if context else raw
    sock.sendall(send)
    return sock


SLOW_POST = (
    b"POST /v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: 100\r\n\r\n{"
)
SLOW_HEADERS = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
