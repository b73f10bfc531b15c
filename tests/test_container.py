"""The container image (Dockerfile) and compose.yaml, run with podman as a self-hoster would.

The image is the one `infra/container.sh build` made from this checkout just before
(`DATALAB_TEST_IMAGE`, set by `make test`). Each container gets the environment that compose.yaml
gives its service, resolved by compose-go (docker compose's loader) from .env.example with the
test's values in place: on embedded defaults, and with the production profile against the test
run's PostgreSQL (`DATABASE_URL`), Redis and Cassandra. Everything goes through the container's
port: register, create an app, issue a token, ingest over /ws/ingest, read an insight; then a
new container on the same volume answers the same.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import websockets

from tests.live_server import ROOT, free_port
from tests.services import redis_url, required_service

pytestmark = [pytest.mark.container, pytest.mark.slow]

CONTAINER_SH = ROOT / "infra" / "container.sh"
ORIGIN = "https://shop.example.test"
# Set in the container by the image or by compose.yaml itself, not taken from .env (see there).
FIXED_BY_THE_IMAGE = {
    "DATALAB_DATA_DIR",
    "DATALAB_EVENTS_SQLITE_PATH",
    "DATALAB_ARCHIVE_DIR",
    "DATALAB_INGEST_INBOX_DIR",
}
PRODUCTION_ONLY = {
    "DATABASE_URL",
    "DATALAB_DB_CONN_MAX_AGE",
    "DATALAB_REDIS_URL",
    "DATALAB_EVENT_STORE",
    *(f"DATALAB_CASSANDRA_{name}" for name in ("HOSTS", "PORT", "KEYSPACE", "LOCAL_DC")),
    *(f"DATALAB_CASSANDRA_{name}" for name in ("REPLICATION", "CONSISTENCY")),
}


def run(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        ["bash", str(CONTAINER_SH), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"infra/container.sh {' '.join(args[:3])}: {result.stderr[-3000:]}")
    return result


def podman(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return run("podman", *args, **kwargs)


def compose_config(tmp_path: Path, values: dict[str, str], profile: str) -> dict:
    """compose.yaml resolved with .env.example, whose lines `values` replaces or extends."""
    lines, left = [], dict(values)
    for line in (ROOT / ".env.example").read_text().splitlines():
        name = line.split("=", 1)[0].lstrip("# ").strip()
        lines.append(f"{name}={left.pop(name)}" if name in left else line)
    lines += [f"{name}={value}" for name, value in left.items()]
    env_file = tmp_path / f"{profile}.env"
    env_file.write_text("\n".join(lines) + "\n")
    out = run(
        "compose",
        "-f",
        str(ROOT / "compose.yaml"),
        "--env-file",
        str(env_file),
        "--profile",
        profile,
    )
    return json.loads(out.stdout)


def environment_flags(service: dict) -> list[str]:
    """`-e NAME=VALUE` for each variable compose gives the service (unset ones stay unset)."""
    flags = []
    for name, value in sorted((service.get("environment") or {}).items()):
        if value is not None:
            flags += ["-e", f"{name}={value}"]
    return flags


def documented_settings() -> set[str]:
    table = (ROOT / "docs" / "configuration.md").read_text().split("## Production-like check")[0]
    return set(re.findall(r"`((?:DATALAB_|DATABASE_)[A-Z_]+)`", table))


@pytest.fixture(scope="module")
def image() -> str:
    return required_service(
        "DATALAB_TEST_IMAGE", "The container image (`bash infra/container.sh build`, with podman)"
    )


class Container:
    """One `podman run -d` of the image; removed (with its logs kept for failures) on stop."""

    def __init__(self, name: str, url: str) -> None:
        self.name, self.url = name, url

    @classmethod
    def start(cls, image: str, url: str, *flags: str, command: tuple[str, ...] = ()) -> Container:
        name = f"datalab-test-{secrets.token_hex(4)}"
        podman("run", "-d", "--name", name, *flags, image, *command)
        container = cls(name, url)
        container.wait_healthy()
        return container

    def logs(self) -> str:
        result = podman("logs", self.name, check=False)
        return (result.stdout + result.stderr)[-4000:]

    def wait_healthy(self, timeout: float = 120) -> None:
        """Until the image's HEALTHCHECK (GET /healthz) passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if podman("healthcheck", "run", self.name, check=False).returncode == 0:
                return
            state = podman("inspect", "--format", "{{.State.Status}}", self.name).stdout.strip()
            if state != "running":
                raise AssertionError(f"container {state}: {self.logs()}")
            time.sleep(1)
        raise AssertionError(f"not healthy after {timeout}s: {self.logs()}")

    def exec(self, *command: str) -> str:
        return podman("exec", self.name, *command).stdout

    def stop(self) -> None:
        podman("stop", "--time", "20", self.name, check=False)
        podman("rm", "--force", self.name, check=False)


@pytest.fixture
def containers():
    """Containers to stop at the end: ask for it last, so that it stops them before the volume
    and the databases they use go."""
    started: list[Container] = []
    yield started
    for container in started:
        container.stop()


@pytest.fixture
def volume():
    name = f"datalab-test-{secrets.token_hex(4)}"
    yield name
    podman("volume", "rm", "--force", name, check=False)


# -- through the container's port, as a person and a site would ---------------------------------


def call(url: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    request = urllib.request.Request(
        f"{url}/api/v1/{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
        method="POST" if body is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        raise AssertionError(f"{path}: {error.code} {error.read()[:500]!r}") from None


async def ingest(url: str, token: str, paths: list[str]) -> list[str]:
    """Page views of `paths` over /ws/ingest, as the snippet sends them; the acked ids."""
    now = int(time.time() * 1000)
    events = [
        {
            "id": str(uuid.uuid4()),
            "type": "pageview",
            "ts": now + i,
            "url": f"{ORIGIN}{path}",
            "referrer": "",
            "title": "Shop",
        }
        for i, path in enumerate(paths)
    ]
    ws = url.replace("http://", "ws://", 1)
    async with websockets.connect(f"{ws}/ws/ingest?token={token}", origin=ORIGIN) as socket:
        assert json.loads(await socket.recv())["type"] == "hello"
        await socket.send(json.dumps({"type": "batch", "events": events}))
        ack = json.loads(await asyncio.wait_for(socket.recv(), 30))
    assert ack["type"] == "ack" and not ack.get("rejected"), ack
    assert sorted(ack["ids"]) == sorted(event["id"] for event in events)
    return ack["ids"]


def page_views(url: str, app: int, token: str) -> dict[str, int]:
    pages = call(url, f"apps/{app}/insights/pages", token=token)["results"]
    return {row["path"]: row["pageviews"] for row in pages}


def eventually(read, expected, timeout: float = 30):
    """`read()` until it equals `expected` (insights follow the writer's commits)."""
    deadline = time.monotonic() + timeout
    while (got := read()) != expected and time.monotonic() < deadline:
        time.sleep(0.5)
    return got


def first_use(url: str, paths: list[str]) -> dict:
    """Register, create an app, issue its token, send the page views, read them back."""
    email, password = f"ada-{secrets.token_hex(3)}@analytical.test", "correct-horse-battery-9"
    body = {"email": email, "password": password, "first_name": "Ada", "last_name": "L"}
    registered = call(url, "auth/register", body | {"organization": "analytical.test"})
    assert registered["verified"] is True  # the first person of the domain founds it
    access = call(url, "auth/login", {"email": email, "password": password})["access"]
    app = call(url, "apps", {"name": "Shop", "url": ORIGIN, "tags": ["web"]}, token=access)["id"]
    token = call(url, f"apps/{app}/token", {}, token=access)["token"]
    acked = asyncio.run(ingest(url, token, paths))
    expected = dict(Counter(paths))
    assert eventually(lambda: page_views(url, app, access), expected) == expected
    return {"email": email, "password": password, "access": access, "app": app, "ids": acked}


# -- compose.yaml --------------------------------------------------------------------------------


def test_compose_file_validates_and_hands_every_setting_from_env(tmp_path):
    embedded = compose_config(tmp_path, {}, "embedded")
    production = compose_config(tmp_path, {}, "production")

    assert set(embedded["services"]) == {"datalab"}
    assert embedded["volumes"].keys() >= {"datalab-data"}
    assert {"target": 8000, "published": "8000"}.items() <= embedded["services"]["datalab"][
        "ports"
    ][0].items()
    settings = documented_settings()
    assert settings >= PRODUCTION_ONLY | FIXED_BY_THE_IMAGE  # the lists above are real names
    assert set(embedded["services"]["datalab"]["environment"]) == (
        settings - FIXED_BY_THE_IMAGE - PRODUCTION_ONLY
    )
    services = production["services"]
    assert set(services) == {
        "datalab-production",
        "cassandra-migrate",
        "postgres",
        "redis",
        "cassandra",
    }
    assert set(services["datalab-production"]["environment"]) == settings - FIXED_BY_THE_IMAGE
    assert (
        services["cassandra-migrate"]["environment"]
        == services["datalab-production"]["environment"]
    )
    assert services["cassandra-migrate"]["command"] == ["cassandra_migrate"]
    assert services["datalab-production"]["depends_on"] == {
        "postgres": {"condition": "service_healthy", "required": True},
        "redis": {"condition": "service_healthy", "required": True},
        "cassandra": {"condition": "service_healthy", "required": True},
        "cassandra-migrate": {"condition": "service_completed_successfully", "required": True},
    }
    assert all(services[name]["healthcheck"]["test"] for name in ("postgres", "redis", "cassandra"))
    environment = services["datalab-production"]["environment"]
    assert environment["DATALAB_EVENT_STORE"] == "cassandra"
    assert environment["DATABASE_URL"].startswith("postgres://datalab:@postgres:5432/")


def test_compose_file_refuses_what_the_specification_does_not_know(tmp_path):
    broken = tmp_path / "compose.yaml"
    broken.write_text(
        (ROOT / "compose.yaml")
        .read_text()
        .replace('    restart: "no"', '    restart: "no"\n    retsart: no')
    )

    result = run(
        "compose", "-f", str(broken), "--env-file", str(ROOT / ".env.example"), check=False
    )

    assert result.returncode != 0
    assert "retsart" in result.stderr


# -- the image ----------------------------------------------------------------------------------


def test_image_runs_on_embedded_defaults_and_keeps_its_data_in_the_volume(
    image, tmp_path, volume, containers
):
    port = free_port()
    config = compose_config(
        tmp_path,
        {
            "DATALAB_IMAGE": image,
            "HTTP_PORT": str(port),
            "DATALAB_PUBLIC_URL": f"http://127.0.0.1:{port}",
        },
        "embedded",
    )
    service = config["services"]["datalab"]
    (published,) = service["ports"]
    (mount,) = service["volumes"]
    flags = [
        "-p",
        f"127.0.0.1:{published['published']}:{published['target']}",
        "-v",
        f"{volume}:{mount['target']}",
        *environment_flags(service),
    ]
    url = f"http://127.0.0.1:{port}"
    containers.append(server := Container.start(service["image"], url, *flags))

    assert server.exec("id", "-u").strip() != "0"
    paths = ["/", "/products/1", "/products/1", "/cart"]
    used = first_use(url, paths)
    stored = server.exec("ls", "/data").split()
    assert {"datalab.sqlite3", "events.sqlite3", "secret_key"} <= set(stored)

    server.stop()
    containers.append(again := Container.start(service["image"], url, *flags))

    # The same person, app and events; the access token signed before the restart still
    # verifies, since the generated secret key is in the volume too.
    assert page_views(url, used["app"], used["access"]) == dict(Counter(paths))
    login = call(url, "auth/login", {"email": used["email"], "password": used["password"]})
    assert call(url, "apps", token=login["access"])[0]["id"] == used["app"]
    assert again.exec("ls", "/data").split() == stored


def test_final_stage_has_no_build_tools_or_node_modules(image):
    result = podman(
        "run",
        "--rm",
        "--entrypoint",
        "sh",
        image,
        "-c",
        "for p in gcc cc make node npm git pip; do command -v $p; done;"
        " find / -xdev -name node_modules -type d -print -quit; id -un",
        check=False,
    )

    assert result.stdout.split() == ["datalab"], result.stdout


# -- the production profile ----------------------------------------------------------------------


@pytest.fixture
def postgres_database():
    """A database of its own on the test run's PostgreSQL (DATABASE_URL); its URL."""
    import psycopg

    url = required_service("DATABASE_URL", "PostgreSQL")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("DATABASE_URL is not PostgreSQL")
    name = f"datalab_container_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def cassandra_keyspace():
    """(hosts, port, keyspace) on the test run's Cassandra; the keyspace is dropped after."""
    from cassandra.cluster import Cluster

    hosts = required_service("DATALAB_TEST_CASSANDRA_HOSTS", "Cassandra")
    port = int(os.environ.get("DATALAB_TEST_CASSANDRA_PORT") or 9042)
    keyspace = f"datalab_container_{secrets.token_hex(4)}"
    yield hosts, port, keyspace
    cluster = Cluster(hosts.split(","), port=port)
    try:
        cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=60)
    finally:
        cluster.shutdown()


def cassandra_event_ids(hosts: str, port: int, keyspace: str, app: int) -> set[str]:
    """The ids of the app's events in the keyspace, read through the Cassandra store."""
    from eventstore.cassandra import CassandraEventStore

    store = CassandraEventStore(hosts=hosts.split(","), port=port, keyspace=keyspace)
    try:
        return {event.event_id for event in store.events(app, 1)}
    finally:
        store.close()


def test_image_runs_with_the_production_profile_on_postgres_redis_and_cassandra(
    image, tmp_path, volume, postgres_database, cassandra_keyspace, containers
):
    import psycopg
    import redis

    hosts, cassandra_port, keyspace = cassandra_keyspace
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = compose_config(
        tmp_path,
        {
            "COMPOSE_PROFILES": "production",
            "DATALAB_IMAGE": image,
            "DATALAB_PUBLIC_URL": url,
            "DATALAB_SECRET_KEY": secrets.token_urlsafe(40),
            "DATABASE_URL": postgres_database,
            "DATALAB_REDIS_URL": redis_url(),
            "DATALAB_CASSANDRA_HOSTS": hosts,
            "DATALAB_CASSANDRA_PORT": str(cassandra_port),
            "DATALAB_CASSANDRA_KEYSPACE": keyspace,
        },
        "production",
    )
    service, migrate = (
        config["services"]["datalab-production"],
        config["services"]["cassandra-migrate"],
    )
    # The test run's services listen on this host's loopback: the containers share its network,
    # so the server takes a free port of the host instead of the image's 8000.
    flags = ["--network=host", "-v", f"{volume}:/data", *environment_flags(service)]
    migrated = podman("run", "--rm", *flags, migrate["image"], *migrate["command"], timeout=300)
    assert f"created keyspace {keyspace}" in migrated.stdout + migrated.stderr
    serve = ("serve", "--host", "127.0.0.1", "--port", str(port))
    containers.append(server := Container.start(service["image"], url, *flags, command=serve))

    unique = f"/{secrets.token_hex(4)}"  # the test Redis is shared: find these among others
    paths = [f"{unique}/", f"{unique}/pricing", f"{unique}/pricing", f"{unique}/signup"]
    used = first_use(url, paths)

    # Metadata in PostgreSQL, events in Cassandra, live state in Redis; nothing in the volume
    # but the server's static files.
    with psycopg.connect(postgres_database) as db:
        emails = [row[0] for row in db.execute("SELECT email FROM accounts_user")]
    assert emails == [used["email"]]
    assert cassandra_event_ids(hosts, cassandra_port, keyspace, used["app"]) == set(used["ids"])
    latest = redis.Redis.from_url(redis_url()).lrange(
        f"datalab:live:rt:{used['app']}:latest", 0, -1
    )
    pushed = [json.loads(item)["path"] for item in latest]
    assert Counter(path for path in pushed if path.startswith(unique)) == Counter(paths)
    assert "sqlite3" not in server.exec("ls", "/data")

    server.stop()
    containers.append(Container.start(service["image"], url, *flags, command=serve))

    assert page_views(url, used["app"], used["access"]) == dict(Counter(paths))
