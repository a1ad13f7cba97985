"""The local stack without a container engine: Kafka (KRaft, Maven Central jars), PostgreSQL, an SMTP catcher
and every service, as plain processes with pid files under ``var/``.

Used by ``make up`` / ``make down`` (``python deploy/localstack.py up|down|status``) and by the test session
(``tests/conftest.py``), which runs its own copy on other ports under ``var/test``.

``up`` ends by starting a **supervisor** (``localstack.py supervise``, pid file ``run/supervisor.pid``, log
``log/supervisor.log``) that restarts any process of the stack that died, with back-off and a restart limit, as
Kubernetes restarts a failed container in production (docs/adr/0008). ``down`` stops the supervisor first, then
everything else, and leaves no process behind; a Ctrl-C or SIGTERM while it runs waits until it is done.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
KAFKA_LIB = ROOT / "deploy" / "kafka" / "lib"
PYTHON = sys.executable

SERVICES: dict[str, dict[str, str]] = {
    "identity": {"module": "identity.main", "env": "IDENTITY", "db": "ras_identity"},
    "applications": {"module": "applications.main", "env": "APPLICATIONS", "db": "ras_applications"},
    "attachments": {"module": "attachments.main", "env": "ATTACHMENTS", "db": "ras_attachments"},
    "notifications": {"module": "notifications.main", "env": "NOTIFICATIONS", "db": "ras_notifications"},
}
CARD_GATEWAY = {"module": "card_gateway.main", "env": "CARD_GATEWAY"}
#: The portal: no business data, its own database for sessions only, behind the gateway at /.
WEB = {"module": "web.main", "env": "WEB", "db": "ras_web"}
GATEWAY_DIR = ROOT / "deploy" / "gateway"
#: Rate limits of the gateway per client address (nginx ``limit_req_zone`` rates); RAS_GATEWAY_RATE_<NAME> overrides.
GATEWAY_RATES = {
    "SIGNIN": "10r/m",
    "REGISTRATION": "5r/m",
    "CHALLENGE": "20r/m",
    "RESEND": "3r/m",
    "RESET": "5r/m",
}


# Children started by this process, kept so that they are reaped (and never garbage-collected while running).
_children: dict[int, subprocess.Popen[bytes]] = {}


SUPERVISOR = "supervisor"


def _let_traverse(folder: Path) -> None:
    """Let other users pass through ``folder`` and its parents (search bit only, nothing readable), so the
    ``postgres`` user reaches its data folder in a checkout under a private directory such as ``mktemp -d``."""
    for part in [folder, *folder.parents]:
        mode = part.stat().st_mode
        if not mode & 0o001:
            part.chmod(mode | 0o001)


class StackError(RuntimeError):
    """A part of the local stack could not be started or stopped."""


def raise_on_termination() -> None:
    """Make SIGTERM and SIGHUP raise KeyboardInterrupt, like Ctrl-C, so that ``finally`` blocks stop the stack.

    Without it a terminated benchmark or test session dies at once and leaves its PostgreSQL, Kafka and simulators
    running (they run in sessions of their own and get no signal).
    """

    def interrupt(signum: int, _: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, interrupt)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold back Ctrl-C and SIGTERM while the stack is being stopped; raise KeyboardInterrupt after, if one came.

    A second Ctrl-C during the clean-up would otherwise interrupt it half-way and leave processes behind.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def note(signum: int, _: FrameType | None) -> None:
        received.append(signum)

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, note)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
    if received:
        raise KeyboardInterrupt(f"signal {signal.Signals(received[0]).name} during clean-up")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Return True when something accepts TCP connections on the port."""
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex((host, port)) == 0


def _zombie(pid: int) -> bool:
    """Return True when ``pid`` has exited but is not reaped yet (Linux; False where /proc is missing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def wait_until(check: object, timeout: float, what: str, interval: float = 0.2) -> None:
    """Poll ``check()`` until it is true, or raise StackError naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(interval)
    raise StackError(f"timed out after {timeout:.0f}s waiting for {what}")


@dataclass
class Ports:
    """The ports one stack uses."""

    kafka: int = 19092
    kafka_controller: int = 19093
    postgres: int = 15432
    smtp: int = 1025
    services: dict[str, int] = field(
        default_factory=lambda: {
            "identity": 8101,
            "applications": 8102,
            "attachments": 8103,
            "notifications": 8104,
        }
    )
    card_gateway: int = 8105
    ocsp: int = 8110
    mynaportal: int = 8199
    checkers: int = 2
    gateway: int = 8080
    gateway_tls: int = 8443
    web: int = 8100


@dataclass
class Proc:
    """A background process recorded by a pid file."""

    name: str
    run_dir: Path
    log_dir: Path

    @property
    def pidfile(self) -> Path:
        """The pid file path."""
        return self.run_dir / f"{self.name}.pid"

    @property
    def logfile(self) -> Path:
        """The log file path."""
        return self.log_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        """Return the pid when the process is alive."""
        try:
            pid = int(self.pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        child = _children.get(pid)
        if child is not None:
            if child.poll() is None:
                return pid
            del _children[pid]
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        if _zombie(pid):  # dead, not yet reaped by the process that started it
            return None
        return pid

    def start(
        self,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
        user: str | None = None,
        port: int | None = None,
    ) -> int:
        """Start ``argv`` in its own session, logging to the log file.

        ``port``: the port it will listen on, which must be free — another program answering there would
        otherwise be mistaken for this one.
        """
        if port is not None and port_open(port):
            raise StackError(
                f"{self.name}: port {port} is already in use by another program (not started by this stack); "
                f"stop it or choose other ports"
            )
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        uid = gid = None
        if user is not None:
            info = pwd.getpwnam(user)
            uid, gid = info.pw_uid, info.pw_gid
        with open(self.logfile, "ab") as log:
            proc = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})},
                start_new_session=True,
                cwd=ROOT,
                user=uid,
                group=gid,
                extra_groups=[] if uid is not None else None,
            )
        _children[proc.pid] = proc
        self.pidfile.write_text(str(proc.pid))
        return proc.pid

    def stop(self, *, kill: bool = False, timeout: float = 20) -> None:
        """Stop the process group: SIGTERM (or SIGKILL when ``kill``), then SIGKILL after ``timeout``."""
        pid = self.pid()
        if pid is None:
            self.pidfile.unlink(missing_ok=True)
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL if kill else signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.pid() is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            wait_until(lambda: self.pid() is None, 10, f"{self.name} to die")
        self.pidfile.unlink(missing_ok=True)


class Stack:
    """One local stack: its folder under ``var/``, its ports and its processes."""

    def __init__(self, var: Path, ports: Ports) -> None:
        self.var = var
        self.ports = ports
        self.run_dir = var / "run"
        self.log_dir = var / "log"
        self.mail_dir = var / "mail"
        self.keys_dir = var / "keys"
        self.blob_dir = var / "blobs"

    def proc(self, name: str) -> Proc:
        """Return the process record ``name``."""
        return Proc(name, self.run_dir, self.log_dir)

    # ---------------------------------------------------------------- Kafka
    @property
    def kafka_bootstrap(self) -> str:
        """The bootstrap address."""
        return f"127.0.0.1:{self.ports.kafka}"

    def provision_kafka(self) -> None:
        """Fetch the Kafka jars from Maven Central once (cached in deploy/kafka/lib)."""
        if (KAFKA_LIB / ".complete").exists():
            return
        subprocess.run(
            [
                "mvn",
                "-q",
                "-B",
                "-f",
                str(ROOT / "deploy/kafka/pom.xml"),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={KAFKA_LIB}",
                "-DincludeScope=runtime",
            ],
            check=True,
        )
        (KAFKA_LIB / ".complete").touch()

    def _kafka_config(self) -> Path:
        kdir = self.var / "kafka"
        data = kdir / "data"
        data.mkdir(parents=True, exist_ok=True)
        props = kdir / "server.properties"
        p = self.ports
        props.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{p.kafka_controller}",
                    f"listeners=PLAINTEXT://127.0.0.1:{p.kafka},CONTROLLER://127.0.0.1:{p.kafka_controller}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{p.kafka}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    "inter.broker.listener.name=PLAINTEXT",
                    f"log.dirs={data}",
                    "auto.create.topics.enable=false",
                    "num.partitions=3",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=6",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "log.flush.interval.messages=1",
                    "",
                ]
            )
        )
        (kdir / "log4j.properties").write_text(
            "log4j.rootLogger=WARN, stdout\n"
            "log4j.appender.stdout=org.apache.log4j.ConsoleAppender\n"
            "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout\n"
            "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n\n"
            "log4j.logger.kafka.server.BrokerServer=INFO\n"
        )
        return props

    def _java(self, *args: str, heap: str = "512m") -> list[str]:
        return [
            "java",
            f"-Xms{heap}",
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j.configuration=file:{self.var / 'kafka' / 'log4j.properties'}",
            "-cp",
            f"{KAFKA_LIB}/*",
            *args,
        ]

    def start_kafka(self, timeout: float = 90) -> None:
        """Format the storage once, start the broker, and wait until it serves metadata."""
        proc = self.proc("kafka")
        if proc.pid() is not None and port_open(self.ports.kafka):
            return
        self.provision_kafka()
        props = self._kafka_config()
        data = self.var / "kafka" / "data"
        if not (data / "meta.properties").exists():
            cluster = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            subprocess.run(
                self._java("kafka.tools.StorageTool", "format", "-t", cluster, "-c", str(props), heap="128m"),
                check=True,
                stdout=subprocess.DEVNULL,
            )
        proc.start(self._java("kafka.Kafka", str(props)), port=self.ports.kafka)
        wait_until(lambda: port_open(self.ports.kafka), timeout, "Kafka to listen")
        asyncio.run(self._kafka_ready(timeout))

    async def _kafka_ready(self, timeout: float) -> None:
        from aiokafka.admin import AIOKafkaAdminClient

        deadline = time.monotonic() + timeout
        while True:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.kafka_bootstrap, request_timeout_ms=5000)
            try:
                await admin.start()
                await admin.list_topics()
                await admin.describe_cluster()
                return
            except Exception as exc:
                if time.monotonic() > deadline:
                    raise StackError(f"Kafka does not serve: {exc!r}") from exc
                await asyncio.sleep(0.5)
            finally:
                await admin.close()

    def create_topics(self) -> list[str]:
        """Create every contract's topic and dead-letter topic (auto-create is off)."""
        from shared.messaging.topics import ensure_topics

        return asyncio.run(ensure_topics(self.kafka_bootstrap))

    # ---------------------------------------------------------------- PostgreSQL
    @staticmethod
    def pg_bin(name: str) -> str:
        """Return the path of a PostgreSQL server program, installing the server when missing."""
        found = shutil.which(name)
        if found:
            return found
        versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
        if versions:
            return str(versions[-1])
        raise StackError(f"PostgreSQL's {name} is missing: run scripts/bootstrap.sh (it installs postgresql)")

    def _pg_user(self) -> str | None:
        """PostgreSQL refuses to run as root: run it as the ``postgres`` user then."""
        return "postgres" if os.geteuid() == 0 else None

    @property
    def pg_data(self) -> Path:
        """The data folder."""
        return self.var / "pg" / "data"

    def database_url(self, db: str) -> str:
        """Return the SQLAlchemy URL of a database on this stack."""
        return f"postgresql+asyncpg://ras@127.0.0.1:{self.ports.postgres}/{db}"

    def start_postgres(self, timeout: float = 60) -> None:
        """Initialise the cluster once, start it on loopback only, and wait until it accepts connections."""
        proc = self.proc("postgres")
        if proc.pid() is not None and port_open(self.ports.postgres):
            return
        user = self._pg_user()
        pgdir = self.var / "pg"
        pgdir.mkdir(parents=True, exist_ok=True)
        if user:
            info = pwd.getpwnam(user)
            os.chown(pgdir, info.pw_uid, info.pw_gid)
            _let_traverse(pgdir.parent)
        if not (self.pg_data / "PG_VERSION").exists():
            cmd = [
                self.pg_bin("initdb"),
                "-D",
                str(self.pg_data),
                "-U",
                "ras",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
            if user:
                cmd = ["runuser", "-u", user, "--", *cmd]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        proc.start(
            [
                self.pg_bin("postgres"),
                "-D",
                str(self.pg_data),
                "-p",
                str(self.ports.postgres),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={pgdir}",
                "-c",
                "max_connections=300",
                "-c",
                "shared_buffers=128MB",
                "-c",
                "fsync=on",
            ],
            user=user,
            port=self.ports.postgres,
        )
        wait_until(lambda: port_open(self.ports.postgres), timeout, "PostgreSQL to listen")
        asyncio.run(self._pg_ready(timeout))

    async def _pg_ready(self, timeout: float) -> None:
        import asyncpg

        deadline = time.monotonic() + timeout
        while True:
            try:
                conn = await asyncpg.connect(
                    host="127.0.0.1", port=self.ports.postgres, user="ras", database="postgres"
                )
                await conn.close()
                return
            except Exception as exc:
                if time.monotonic() > deadline:
                    raise StackError(f"PostgreSQL does not answer: {exc!r}") from exc
                await asyncio.sleep(0.3)

    def create_database(self, name: str, *, fresh: bool = False) -> None:
        """Create a database (dropping it first when ``fresh``)."""

        async def run() -> None:
            import asyncpg

            conn = await asyncpg.connect(
                host="127.0.0.1", port=self.ports.postgres, user="ras", database="postgres"
            )
            try:
                if fresh:
                    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
                if not exists:
                    await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        asyncio.run(run())

    def migrate(self, service: str) -> None:
        """Apply the service's Alembic migrations to its database."""
        db = WEB["db"] if service == "web" else SERVICES[service]["db"]
        env = {**os.environ, "RAS_MIGRATION_DATABASE_URL": self.database_url(db)}
        subprocess.run(
            [
                PYTHON,
                "-m",
                "alembic",
                "-c",
                str(ROOT / "services" / service / "alembic.ini"),
                "upgrade",
                "heads",
            ],
            check=True,
            env=env,
            cwd=ROOT / "services" / service,
            stdout=subprocess.DEVNULL,
        )

    # ---------------------------------------------------------------- SMTP catcher
    def start_smtp(self, timeout: float = 20) -> None:
        """Start the development SMTP server that keeps every message as an .eml file."""
        proc = self.proc("smtp")
        if proc.pid() is not None and port_open(self.ports.smtp):
            return
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        proc.start(
            [
                PYTHON,
                str(ROOT / "deploy" / "mailcatcher.py"),
                "--port",
                str(self.ports.smtp),
                "--dir",
                str(self.mail_dir),
            ],
            port=self.ports.smtp,
        )
        wait_until(lambda: port_open(self.ports.smtp), timeout, "the SMTP catcher to listen")

    # ---------------------------------------------------------------- services
    def ensure_keys(self) -> tuple[Path, Path]:
        """Create the development token signing key pair once."""
        private, public = self.keys_dir / "token_private.pem", self.keys_dir / "token_public.pem"
        if not private.exists():
            from shared.auth import generate_keypair

            self.keys_dir.mkdir(parents=True, exist_ok=True)
            priv, pub = generate_keypair()
            private.write_text(priv)
            private.chmod(0o600)
            public.write_text(pub)
        return private, public

    def secret(self, name: str) -> str:
        """Return a development secret kept in ``keys/<name>``, creating it once."""
        path = self.keys_dir / name
        if not path.exists():
            import secrets

            self.keys_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()

    def start_mynaportal_simulator(self, timeout: float = 30) -> None:
        """Start the local SIMULATOR of the Mynaportal tax-data provider."""
        proc = self.proc("mynaportal-simulator")
        if proc.pid() is not None and port_open(self.ports.mynaportal):
            return
        proc.start(
            [PYTHON, "-m", "attachments.mynaportal_simulator", "--port", str(self.ports.mynaportal)],
            port=self.ports.mynaportal,
        )
        wait_until(lambda: port_open(self.ports.mynaportal), timeout, "the Mynaportal simulator to listen")

    def start_checkers(self) -> None:
        """Start the attachment checker processes (FastStream consumers; run more of them to scale)."""
        for index in range(self.ports.checkers):
            self.start_checker(index)

    def start_checker(self, index: int) -> None:
        """Start one attachment checker process unless it runs."""
        proc = self.proc(f"attachments-checker-{index}")
        if proc.pid() is None:
            proc.start([PYTHON, "-m", "attachments.checker"], env=self.service_env("attachments"))

    def start_ocsp_simulator(self, timeout: float = 30) -> None:
        """Start the OCSP responder simulator of the development JPKI (``deploy/dev_pki.py``)."""
        proc = self.proc("ocsp-simulator")
        if proc.pid() is not None and port_open(self.ports.ocsp):
            return
        proc.start(
            [
                PYTHON,
                str(ROOT / "deploy" / "dev_pki.py"),
                "ocsp",
                "--dir",
                str(self.var / "jpki"),
                "--port",
                str(self.ports.ocsp),
            ],
            port=self.ports.ocsp,
        )
        wait_until(lambda: port_open(self.ports.ocsp), timeout, "the OCSP simulator to listen")

    def service_env(self, service: str) -> dict[str, str]:
        """Return the environment a service process needs on this stack."""
        private, public = self.ensure_keys()
        if service == "web":
            return {
                "WEB_DATABASE_URL": self.database_url(WEB["db"]),
                **{
                    f"WEB_{name.upper()}_URL": f"http://127.0.0.1:{port}"
                    for name, port in self.ports.services.items()
                },
                "WEB_PUBLIC_URL": self.public_url,
                "WEB_CARD_GATEWAY_URL": f"http://127.0.0.1:{self.ports.card_gateway}",
                "WEB_TRUSTED_PROXIES": '["127.0.0.1"]',
            }
        if service == "card-gateway":
            prefix = CARD_GATEWAY["env"]
            return {
                f"{prefix}_PORT": str(self.ports.card_gateway),
                f"{prefix}_ALLOWED_ORIGINS": os.environ.get(f"{prefix}_ALLOWED_ORIGINS", self.public_url),
            }
        spec = SERVICES[service]
        prefix = spec["env"]
        env = {
            f"{prefix}_DATABASE_URL": self.database_url(spec["db"]),
            f"{prefix}_KAFKA__BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            f"{prefix}_AUTH__PUBLIC_KEY_FILE": str(public),
            f"{prefix}_PUBLIC_BASE_URL": f"http://127.0.0.1:{self.ports.services[service]}",
        }
        if service == "identity":
            import dev_pki

            jpki = self.var / "jpki"
            dev_pki.ensure(jpki)
            env["IDENTITY_TOKEN_PRIVATE_KEY_FILE"] = str(private)
            env["IDENTITY_HANDLE_PEPPER"] = self.secret("handle_pepper")
            env["IDENTITY_JPKI__AUTH_CA_FILES"] = json.dumps([str(p) for p in dev_pki.ca_files(jpki, "auth")])
            env["IDENTITY_JPKI__SIGN_CA_FILES"] = json.dumps([str(p) for p in dev_pki.ca_files(jpki, "sign")])
            env["IDENTITY_REVOCATION__BACKEND"] = "ocsp"
            env["IDENTITY_REVOCATION__OCSP_URL"] = f"http://127.0.0.1:{self.ports.ocsp}/ocsp"
            env["IDENTITY_WEB_BASE_URL"] = os.environ.get("RAS_WEB_BASE_URL", self.public_url)
            # The gateway and the portal reach identity over loopback and set X-Forwarded-For to the browser's
            # address (the gateway replaces what the client sent); services listen on loopback only, so no
            # remote client is a loopback peer (docs/adr/0011).
            env["IDENTITY_TRUSTED_PROXIES"] = '["127.0.0.1", "::1"]'
        if service == "notifications":
            env["NOTIFICATIONS_SMTP__HOST"] = "127.0.0.1"
            env["NOTIFICATIONS_SMTP__PORT"] = str(self.ports.smtp)
            env["NOTIFICATIONS_MAIL__WEB_URL"] = (
                self.public_url
            )  # mails link to the portal behind the gateway
        if service == "attachments":
            env["ATTACHMENTS_BLOB_DIR"] = str(self.blob_dir)
            env["ATTACHMENTS_MYNAPORTAL__BASE_URL"] = f"http://127.0.0.1:{self.ports.mynaportal}"
            env["ATTACHMENTS_APPLICATIONS__BASE_URL"] = (
                f"http://127.0.0.1:{self.ports.services['applications']}"
            )
        return env

    def start_service(self, service: str, timeout: float = 60) -> None:
        """Start one service with uvicorn and wait for its ``/alive``."""
        port = {"card-gateway": self.ports.card_gateway, "web": self.ports.web}.get(
            service
        ) or self.ports.services[service]
        module = {"card-gateway": CARD_GATEWAY["module"], "web": WEB["module"]}.get(service) or SERVICES[
            service
        ]["module"]
        proc = self.proc(service)
        if proc.pid() is not None and port_open(port):
            return
        proc.start(
            [
                PYTHON,
                "-m",
                "shared.serve",  # uvicorn with the header, keep-alive and body limits of shared.http
                f"{module}:app_from_env",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                # Never let uvicorn rewrite the client address from X-Forwarded-For (its default believes any
                # loopback peer): identity trusts the header only from IDENTITY_TRUSTED_PROXIES (docs/adr/0011).
                "--no-proxy-headers",
                "--timeout-graceful-shutdown",
                "20",
            ],
            env=self.service_env(service),
            port=port,
        )
        wait_until(lambda: port_open(port) or proc.pid() is None, timeout, f"{service} to listen")
        if proc.pid() is None:
            raise StackError(f"{service} exited at start; see {proc.logfile}")

    # ---------------------------------------------------------------- the public gateway (nginx)
    @property
    def gateway_dir(self) -> Path:
        """Where the rendered gateway configuration, its static files and temp folders live."""
        return self.var / "gateway"

    @property
    def public_url(self) -> str:
        """The one public address (what mails link to)."""
        return f"http://127.0.0.1:{self.ports.gateway}"

    def gateway_tls(self) -> bool:
        """TLS is optional: ``RAS_GATEWAY_TLS=1`` adds an HTTPS server with a locally generated certificate."""
        return os.environ.get("RAS_GATEWAY_TLS", "") in {"1", "true", "yes"}

    def gateway_values(self) -> dict[str, str]:
        """The template values of ``deploy/gateway/*.template`` on this stack."""
        gdir = self.gateway_dir
        values = {
            "RAS_GATEWAY_LISTEN": f"127.0.0.1:{self.ports.gateway}",
            "RAS_GATEWAY_TLS_LISTEN": f"127.0.0.1:{self.ports.gateway_tls}",
            "RAS_GATEWAY_TLS_CERT": str(gdir / "tls" / "gateway.crt"),
            "RAS_GATEWAY_TLS_KEY": str(gdir / "tls" / "gateway.key"),
            "RAS_GATEWAY_ACCESS_LOG": str(self.log_dir / "gateway-access.log"),
            "RAS_GATEWAY_WWW": str(gdir / "www"),
            "RAS_GATEWAY_INCLUDE_DIR": str(gdir / "conf.d"),
            "RAS_CARD_GATEWAY_ORIGIN": f"http://127.0.0.1:{self.ports.card_gateway}",
            "RAS_WEB_UPSTREAM": f"127.0.0.1:{self.ports.web}",
        }
        for service, port in self.ports.services.items():
            values[f"RAS_{service.upper()}_UPSTREAM"] = f"127.0.0.1:{port}"
        for name, rate in GATEWAY_RATES.items():
            values[f"RAS_GATEWAY_RATE_{name}"] = os.environ.get(f"RAS_GATEWAY_RATE_{name}", rate)
        return values

    def render_gateway(self) -> Path:
        """Write the gateway's nginx.conf (rendered from the templates every way of running shares); return it."""
        import gateway_config

        gdir = self.gateway_dir
        conf_d = gdir / "conf.d"
        for sub in ("conf.d", "tmp", "www"):
            (gdir / sub).mkdir(parents=True, exist_ok=True)
        for old in conf_d.iterdir():
            old.unlink()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        shutil.copytree(GATEWAY_DIR / "www", gdir / "www", dirs_exist_ok=True)
        values = self.gateway_values()
        templates = ["ras-00-gateway.conf.template", *(p.name for p in GATEWAY_DIR.glob("*.inc.template"))]
        if self.gateway_tls():
            gateway_config.ensure_certificate(gdir / "tls")
            templates.append("ras-10-tls.conf.template")
        for name in templates:
            text = gateway_config.render((GATEWAY_DIR / name).read_text(), values)
            (conf_d / name.removesuffix(".template")).write_text(text)
        user = "nobody" if os.geteuid() == 0 else None
        if user:
            info = pwd.getpwnam(user)
            os.chown(gdir / "tmp", info.pw_uid, info.pw_gid)
        main_conf = gdir / "nginx.conf"
        main_conf.write_text(gateway_config.main_conf(gdir, self.log_dir, user=user))
        return main_conf

    def start_gateway(self, timeout: float = 20) -> None:
        """Start nginx (the distribution's package) as the public gateway, after checking its configuration."""
        proc = self.proc("gateway")
        if proc.pid() is not None and port_open(self.ports.gateway):
            return
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(nginx).exists():
            raise StackError("nginx is missing: run scripts/bootstrap.sh (it installs the nginx package)")
        conf = self.render_gateway()
        prefix = str(self.gateway_dir) + "/"
        check = subprocess.run(
            [nginx, "-t", "-q", "-p", prefix, "-c", str(conf)], capture_output=True, text=True, check=False
        )
        if check.returncode != 0:
            raise StackError(f"the gateway configuration is not valid: {check.stderr.strip()}")
        proc.start([nginx, "-p", prefix, "-c", str(conf), "-g", "daemon off;"], port=self.ports.gateway)
        wait_until(
            lambda: port_open(self.ports.gateway) or proc.pid() is None, timeout, "the gateway to listen"
        )
        if proc.pid() is None:
            raise StackError(
                f"the gateway exited at start; see {proc.logfile} and {self.log_dir}/gateway-error.log"
            )

    def publish_openapi(self) -> Path:
        """Merge the services' OpenAPI documents into the public gateway API document the gateway serves."""
        import gateway_config

        return gateway_config.write_merged_openapi(
            {service: f"http://127.0.0.1:{port}" for service, port in self.ports.services.items()},
            self.gateway_dir / "www" / "api" / "openapi.json",
        )

    def wait_ready(self, timeout: float = 120) -> None:
        """Wait until every service answers ``/ready`` (its database and broker answer) and the checkers live."""
        import urllib.error
        import urllib.request

        def ready(port: int) -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=3) as response:
                    return bool(response.status == 200)
            except (urllib.error.URLError, OSError):
                return False

        for service, port in [*self.ports.services.items(), ("web", self.ports.web)]:
            wait_until(lambda port=port: ready(port), timeout, f"{service} to be ready")
        for index in range(self.ports.checkers):
            proc = self.proc(f"attachments-checker-{index}")
            if proc.pid() is None:
                raise StackError(f"attachments checker {index} exited at start; see {proc.logfile}")

    def infra_up(self) -> None:
        """Start Kafka, PostgreSQL and the SMTP catcher, create topics and databases, apply migrations."""
        self.start_postgres()
        self.start_kafka()
        self.start_smtp()
        self.start_ocsp_simulator()
        self.start_mynaportal_simulator()
        self.create_topics()
        for service, spec in SERVICES.items():
            self.create_database(spec["db"])
            self.migrate(service)
        self.create_database(WEB["db"])
        self.migrate("web")

    def up(self, *, services: bool = True, supervise: bool = True) -> dict[str, str]:
        """Bring the whole stack up, start its supervisor and write ``var/stack.env``; harmless when already up."""
        self.infra_up()
        if services:
            for service in SERVICES:
                self.start_service(service)
            self.start_checkers()
            self.start_service("card-gateway")
            self.start_service("web")
            self.wait_ready()
            self.start_gateway()
            self.publish_openapi()
        if supervise:
            self.start_supervisor()
        return self.write_env()

    # ---------------------------------------------------------------- supervisor
    def starter(self, name: str) -> Callable[[], None]:
        """Return the call that starts the process ``name`` (what the supervisor runs to restart it)."""
        fixed: dict[str, Callable[[], None]] = {
            "postgres": self.start_postgres,
            "kafka": self.start_kafka,
            "smtp": self.start_smtp,
            "ocsp-simulator": self.start_ocsp_simulator,
            "mynaportal-simulator": self.start_mynaportal_simulator,
            "gateway": self.start_gateway,
        }
        if name in fixed:
            return fixed[name]
        if name in SERVICES or name in ("card-gateway", "web"):
            return lambda: self.start_service(name)
        if name.startswith("attachments-checker-"):
            return lambda: self.start_checker(int(name.rsplit("-", 1)[1]))
        raise StackError(f"the supervisor does not know how to start {name!r}")

    def write_ports(self) -> Path:
        """Write ``stack.json`` (the ports), from which the supervisor rebuilds this stack."""
        self.var.mkdir(parents=True, exist_ok=True)
        path = self.var / "stack.json"
        path.write_text(json.dumps({"ports": asdict(self.ports)}, indent=2))
        return path

    def start_supervisor(self, *, policy: RestartPolicy | None = None) -> int:
        """Start the supervisor of this stack (once) and return its pid."""
        proc = self.proc(SUPERVISOR)
        running = proc.pid()
        if running is not None:
            return running
        self.write_ports()
        argv = [PYTHON, str(Path(__file__).resolve()), "supervise", "--var", str(self.var)]
        if policy is not None:
            argv += ["--policy", json.dumps(asdict(policy))]
        return proc.start(argv)

    def addresses(self) -> dict[str, str]:
        """Return the addresses of every part, as KEY=value pairs."""
        env = {
            "PUBLIC_URL": self.public_url,
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "POSTGRES_URL": f"postgresql://ras@127.0.0.1:{self.ports.postgres}/postgres",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.ports.smtp),
            "MAIL_DIR": str(self.mail_dir),
            "TOKEN_PUBLIC_KEY_FILE": str(self.keys_dir / "token_public.pem"),
            "OCSP_SIMULATOR_URL": f"http://127.0.0.1:{self.ports.ocsp}/ocsp",
            "MYNAPORTAL_SIMULATOR_URL": f"http://127.0.0.1:{self.ports.mynaportal}",
            "JPKI_DEMO_CARD_DIR": str(self.var / "jpki" / "card"),
        }
        for service, port in self.ports.services.items():
            env[f"{service.upper()}_URL"] = f"http://127.0.0.1:{port}"
        env["CARD_GATEWAY_URL"] = f"http://127.0.0.1:{self.ports.card_gateway}"
        env["GATEWAY_ACCESS_LOG"] = str(self.log_dir / "gateway-access.log")
        if self.gateway_tls():
            env["PUBLIC_TLS_URL"] = f"https://127.0.0.1:{self.ports.gateway_tls}"
        return env

    def write_env(self) -> dict[str, str]:
        """Write ``stack.env`` in the stack's folder and return its values."""
        env = self.addresses()
        self.var.mkdir(parents=True, exist_ok=True)
        (self.var / "stack.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        return env

    def names(self) -> Iterator[str]:
        """Every process name: the supervisor, the gateway and services (stopped first), infrastructure last."""
        yield SUPERVISOR
        yield "gateway"
        yield "web"
        yield "card-gateway"
        yield from (f"attachments-checker-{i}" for i in range(self.ports.checkers))
        yield from reversed(list(SERVICES))
        yield from ("mynaportal-simulator", "ocsp-simulator", "smtp", "kafka", "postgres")

    def down(self) -> None:
        """Stop every process of this stack and leave none behind: the supervisor first, then any other process
        recorded under ``run/`` (a benchmark's baseline, say), then services and infrastructure."""
        with signals_deferred():
            names = list(self.names())
            others = sorted(p.stem for p in self.run_dir.glob("*.pid") if p.stem not in names)
            for name in [names[0], *others, *names[1:]]:
                self.proc(name).stop()
            (self.var / "stack.env").unlink(missing_ok=True)

    def status(self) -> dict[str, int | None]:
        """Return each process's pid, or None when it is not running."""
        return {name: self.proc(name).pid() for name in self.names()}


@dataclass
class RestartPolicy:
    """How the supervisor restarts: back-off doubling per restart, at most ``max_restarts`` within ``window_s``."""

    interval_s: float = 1.0
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    max_restarts: int = 5
    window_s: float = 300.0


class Supervisor:
    """Restarts every process of a stack that died (its pid file is there, its process is gone), as Kubernetes would.

    A process stopped on purpose (``Proc.stop``, ``make down``) has no pid file and is left alone. Restarts of one
    process wait ``backoff_base_s`` doubling up to ``backoff_max_s``; after ``max_restarts`` within ``window_s``
    the supervisor gives up on it and says so in its log (a process that crashes at every start needs a person).
    """

    def __init__(self, stack: Stack, policy: RestartPolicy | None = None) -> None:
        self.stack = stack
        self.policy = policy or RestartPolicy()
        self.restarts: dict[str, list[float]] = {}
        self.not_before: dict[str, float] = {}
        self.given_up: set[str] = set()
        self.stopping = False

    def log(self, message: str) -> None:
        """Write one line to the supervisor's log (its standard output)."""
        print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} supervisor: {message}", flush=True)

    def dead(self) -> list[str]:
        """Return the processes that should run (pid file present) but do not."""
        names = [n for n in self.stack.names() if n != SUPERVISOR]
        return [n for n in names if self.stack.proc(n).pidfile.exists() and self.stack.proc(n).pid() is None]

    def check(self) -> None:
        """Restart each dead process whose back-off has passed, within the restart limit."""
        now = time.monotonic()
        for name in self.dead():
            if name in self.given_up or now < self.not_before.get(name, 0.0):
                continue
            recent = [t for t in self.restarts.get(name, []) if now - t < self.policy.window_s]
            if len(recent) >= self.policy.max_restarts:
                self.given_up.add(name)
                self.log(
                    f"{name} died again after {len(recent)} restarts within {self.policy.window_s:.0f}s: giving up; "
                    f"see {self.stack.proc(name).logfile}, then start it with `make up`"
                )
                continue
            recent.append(now)
            self.restarts[name] = recent
            delay = min(self.policy.backoff_max_s, self.policy.backoff_base_s * 2 ** (len(recent) - 1))
            self.not_before[name] = now + delay
            self.log(
                f"{name} is not running: restarting it (restart {len(recent)}/{self.policy.max_restarts})"
            )
            try:
                self.stack.starter(name)()
            except Exception as exc:  # the next check tries again after the back-off
                self.log(f"{name} could not be restarted: {exc!r}; next try in {delay:.0f}s")
            else:
                self.log(f"{name} restarted, pid {self.stack.proc(name).pid()}")

    def run(self) -> None:
        """Check until SIGTERM or SIGINT."""

        def stop(signum: int, _: FrameType | None) -> None:
            self.stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.log(
            f"watching {self.stack.var} (restart limit {self.policy.max_restarts} per {self.policy.window_s:.0f}s)"
        )
        while not self.stopping:
            self.check()
            deadline = time.monotonic() + self.policy.interval_s
            while not self.stopping and time.monotonic() < deadline:
                time.sleep(0.1)
        self.log("stopped")


def load_stack(var: Path) -> Stack:
    """Rebuild a stack from the ``stack.json`` it wrote at start."""
    data = json.loads((var / "stack.json").read_text())
    return Stack(var, Ports(**data["ports"]))


def default_stack() -> Stack:
    """Return the developer stack under ``var/``."""
    return Stack(ROOT / "var", Ports())


def main(argv: list[str] | None = None) -> int:
    """Command line: ``up``, ``infra``, ``down``, ``status``."""
    parser = argparse.ArgumentParser(prog="localstack", description=__doc__)
    parser.add_argument("command", choices=["up", "infra", "down", "status", "supervise"])
    parser.add_argument("--var", type=Path, help="supervise: the stack's folder (with its stack.json)")
    parser.add_argument("--policy", help="supervise: the restart policy as JSON (RestartPolicy fields)")
    args = parser.parse_args(argv)
    if args.command == "supervise":
        policy = RestartPolicy(**json.loads(args.policy)) if args.policy else None
        Supervisor(load_stack(args.var or default_stack().var), policy).run()
        return 0
    stack = default_stack()
    if args.command == "down":
        stack.down()
        print("stack stopped")
        return 0
    if args.command == "status":
        print(json.dumps(stack.status(), indent=2))
        return 0
    raise_on_termination()
    try:
        env = stack.up(services=args.command == "up")
    except KeyboardInterrupt:
        print("localstack: interrupted; stopping what was started", file=sys.stderr)
        stack.down()
        return 130
    except (StackError, subprocess.CalledProcessError) as exc:
        print(f"localstack: {exc}", file=sys.stderr)
        print(f"localstack: logs are in {stack.log_dir}", file=sys.stderr)
        return 1
    print("The stack is up:")
    for key, value in env.items():
        print(f"  {key}={value}")
    print(f"(also written to {stack.var / 'stack.env'}; stop everything with: make down)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
