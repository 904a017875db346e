"""A real `redis-server` for tests, in its own process: the Redis store is tested against the
server it meets in production, not a fake, and a test can stop it mid-run and bring it back on
the same port to see what the store does while Redis is away.

It keeps nothing on disk (no RDB, no AOF), listens only on 127.0.0.1 and writes its output to
FOLDER/redis.log, which is shown when it does not come up. With `tls=True` it serves TLS only,
under a certificate from a throwaway CA made in FOLDER; `url` carries the CA's path, so a client
made by `redis.from_url(url)` trusts it with no other setting."""

from __future__ import annotations

import contextlib
import datetime
import functools
import ipaddress
import random
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlencode

import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from redis.backoff import NoBackoff
from redis.retry import Retry

HOST = "127.0.0.1"
START_TIMEOUT = 10.0  # seconds for a new redis-server to answer PING
STOP_TIMEOUT = 10.0  # seconds for it to exit once signalled


class RedisTLSUnsupported(RuntimeError):
    """This machine's redis-server was built without TLS: a test may catch it and skip."""


def redis_server_path() -> str | None:
    """Where `redis-server` is on PATH, or None when it is not installed."""
    return shutil.which("redis-server")


@functools.cache
def tls_supported(executable: str) -> bool:
    """Whether EXECUTABLE was built with TLS: such a build links OpenSSL, so its binary names
    SSL_CTX_new. Read from the binary rather than learnt by starting a TLS server, so that a
    failure to start is never mistaken for a build without TLS (or the other way round)."""
    return b"SSL_CTX_new" in Path(executable).read_bytes()


def free_port() -> int:
    """A port free on 127.0.0.1 now, chosen below the kernel's ephemeral range.

    Below it because the server is stopped and started again on the same port: while it is
    down, ports in the ephemeral range are what the kernel hands to outgoing connections, so a
    client reconnecting in a loop could be given that very port (on Linux it then connects to
    itself) and the restart would find it taken. (tests/conftest.py has a free_port too, but it
    imports this module, so importing it here would be a cycle.)"""
    try:
        first_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        first_ephemeral = 0
    for _ in range(100):
        # with no room below the range (or not on Linux), port 0: the kernel chooses
        port = random.randrange(20000, first_ephemeral) if first_ephemeral > 20000 else 0
        with socket.socket() as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free port for redis-server on 127.0.0.1")


class RedisServer:
    """One redis-server process on 127.0.0.1, started and stopped by hand or as a context
    manager; its port is chosen once, so a restart comes back where clients expect it."""

    def __init__(self, folder: Path, *, password: str | None = None, tls: bool = False) -> None:
        executable = redis_server_path()
        if executable is None:
            raise FileNotFoundError("redis-server is not installed (make test installs Debian's)")
        if tls and not tls_supported(executable):
            raise RedisTLSUnsupported(f"{executable} was built without TLS support")
        self.executable = executable
        self.folder = folder
        self.password = password
        self.tls = tls
        self.port = free_port()
        self.log_path = folder / "redis.log"
        self.ca_path = folder / "ca.pem"
        self.cert_path = folder / "server.pem"
        self.key_path = folder / "server.key"
        self._process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)
        if tls:
            write_test_certificates(self.ca_path, self.cert_path, self.key_path)

    @property
    def url(self) -> str:
        """The URL a store is opened with: redis:// or, under TLS, rediss:// with the test CA
        in `ssl_ca_certs` (redis-py hands query arguments it does not parse to the connection
        as strings, and a path is a string)."""
        auth = f":{quote(self.password, safe='')}@" if self.password is not None else ""
        if not self.tls:
            return f"redis://{auth}{HOST}:{self.port}/0"
        query = urlencode({"ssl_ca_certs": str(self.ca_path)}, safe="/", quote_via=quote)
        return f"rediss://{auth}{HOST}:{self.port}/0?{query}"

    @property
    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for redis.Redis (or redis.asyncio.Redis) that reach this server."""
        kwargs: dict[str, Any] = {"host": HOST, "port": self.port, "password": self.password}
        if self.tls:
            kwargs.update(ssl=True, ssl_ca_certs=str(self.ca_path))
        return kwargs

    def client(self, **kwargs: Any) -> redis.Redis:
        """A sync client of this server (close it, or use it in a `with`)."""
        return redis.Redis(**{**self.client_kwargs, **kwargs})

    def command(self) -> list[str]:
        """redis-server's command line: all of its configuration, no config file."""
        args = [
            self.executable, "--bind", HOST, "--save", "", "--appendonly", "no",
            "--dir", str(self.folder), "--daemonize", "no", "--protected-mode", "no",
        ]
        if self.password is not None:
            args += ["--requirepass", self.password]
        if self.tls:
            args += [
                "--port", "0", "--tls-port", str(self.port),
                "--tls-cert-file", str(self.cert_path), "--tls-key-file", str(self.key_path),
                "--tls-ca-cert-file", str(self.ca_path), "--tls-auth-clients", "no",
            ]
        else:
            args += ["--port", str(self.port)]
        return args

    def start(self) -> RedisServer:
        """Launch redis-server and return once it answers (INFO, whose process_id proves that
        the answer is its own); raise with its log if it has not within START_TIMEOUT seconds."""
        if self.is_running():
            raise RuntimeError(f"redis-server is already running on port {self.port}")
        with self.log_path.open("ab") as log:  # appended: a restart keeps the earlier output
            self._process = process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + START_TIMEOUT
        foreign_pid = None
        while process.poll() is None and time.monotonic() < deadline:
            try:  # no retries: redis-py's default backs off for seconds while it is not up yet
                with self.client(retry=Retry(NoBackoff(), 0), socket_timeout=1) as client:
                    pid = client.info("server")["process_id"]
            except (redis.ConnectionError, redis.TimeoutError):
                time.sleep(0.01)
                continue
            if pid == process.pid:
                return self
            # Another server holds the port: this one fails to bind and exits, logging why.
            foreign_pid = pid
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            break
        exit_code = process.poll()
        self.stop()
        if foreign_pid is not None:
            reason = f"port {self.port} is served by another Redis, pid {foreign_pid}"
        elif exit_code is not None:
            reason = f"exited with {exit_code}"
        else:
            reason = f"no PING in {START_TIMEOUT:g} s"
        raise RuntimeError(f"redis-server did not come up ({reason}):\n{self.log_path.read_text()}")

    def stop(self, *, graceful: bool = False) -> None:
        """Kill redis-server (SIGKILL: gone at once, as in a crash) or, with `graceful`, ask it
        to shut down (SIGTERM), and wait until it has exited. Does nothing if it is not running."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM if graceful else signal.SIGKILL)
            process.send_signal(signal.SIGCONT)  # a paused server acts on SIGTERM only once resumed
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise RuntimeError(f"redis-server ignored SIGTERM for {STOP_TIMEOUT:g} s") from None

    def pause(self) -> None:
        """Freeze redis-server (SIGSTOP): it keeps its port and its connections but answers
        nothing, as a Redis that hangs, so a test sees a client's timeouts rather than a refusal."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused redis-server go on (SIGCONT): it answers what it was sent meanwhile."""
        self._signal(signal.SIGCONT)

    def _signal(self, number: signal.Signals) -> None:
        if self._process is None or self._process.poll() is not None:
            raise RuntimeError("redis-server is not running")
        self._process.send_signal(number)

    def is_running(self) -> bool:
        """Whether the process started last is still alive (a paused one is)."""
        return self._process is not None and self._process.poll() is None

    def flush(self) -> None:
        """FLUSHALL: every key of every database gone, so a test starts from an empty server."""
        with self.client() as client:
            client.flushall()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()


def write_test_certificates(ca_path: Path, cert_path: Path, key_path: Path) -> None:
    """A throwaway CA (CA_PATH) and a server certificate it signed for 127.0.0.1 and localhost
    (CERT_PATH, key at KEY_PATH): what a client must verify against, as in production, rather
    than a client told to verify nothing. EC P-256 keys, as they are made in a millisecond."""
    now = datetime.datetime.now(datetime.UTC)
    valid_from, valid_to = now - datetime.timedelta(days=1), now + datetime.timedelta(days=30)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "funnelrun test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from).not_valid_after(valid_to)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from).not_valid_after(valid_to)
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    key_path.chmod(0o600)
