"""Real API clients against a live server, as frontend developers use the API document.

1. Postman: the served /api/openapi.json converted by openapi-to-postmanv2 (parameters from
   examples, folders by tag, the other Import options at their defaults), then a shopping flow
   of the generated requests, sent exactly as generated, run by newman
   (tests/clients/postman/run-flow.js). Only baseUrl and the bearer token are set: the
   customer's from the flow's login, the admin's (STORE_ADMIN_TOKEN) from this test.
2. A typed client: openapi-typescript generates types from the served document, a TypeScript
   program using openapi-fetch does the same flow (tests/clients/typescript/shop.mts); it is
   type-checked with `tsc --strict --noEmit`, compiled with tsc and run with node.

Each runs against gunicorn on a fresh database of its own, of the engine under test
(tests/concurrency/live.py), seeded with the demo catalog and an admin by seed_data.py. The
npm packages come from package.json/package-lock.json (`make node_modules`); without them the
tests skip on a developer's machine and FAIL in CI (CI=true).
"""

import json
import os
import re
import secrets
import shutil
import subprocess
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
import requests

from seed_data import seed
from tests.concurrency.live import PROJECT_ROOT, LiveStore
from tests.databases import fresh_database

NODE_MODULES = PROJECT_ROOT / "node_modules"
CLIENTS = PROJECT_ROOT / "tests" / "clients"
POSTMAN_FLOW = CLIENTS / "postman" / "run-flow.js"
TS_DIR = CLIENTS / "typescript"
TS_SOURCE = TS_DIR / "shop.mts"
TS_TYPES = TS_DIR / "generated" / "store-api.ts"
TS_BUILT = TS_DIR / "build" / "shop.mjs"
# Each package the clients load, and the command-line tools they run.
PACKAGES = ("openapi-to-postmanv2", "newman", "openapi-typescript", "openapi-fetch", "typescript")
TOOLS = ("openapi-typescript", "tsc")
STEP_TIMEOUT_S = 300


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _node_clients_missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not on PATH (Node.js 20 is needed)"
    missing = [name for name in PACKAGES if not (NODE_MODULES / name / "package.json").is_file()]
    missing += [f".bin/{tool}" for tool in TOOLS if not (NODE_MODULES / ".bin" / tool).exists()]
    if missing:
        return f"node_modules lacks {', '.join(missing)}: run `make node_modules` (npm ci)"
    return None


def _tool(name: str) -> str:
    return str(NODE_MODULES / ".bin" / name)


def _require_node_clients() -> None:
    """Skip (fail in CI) when the npm clients are not installed."""
    problem = _node_clients_missing()
    if problem:
        if _in_ci():
            pytest.fail(f"real API clients cannot run in CI: {problem}", pytrace=False)
        pytest.skip(f"real API clients not installed: {problem}")


@contextmanager
def _live_store(folder):
    """gunicorn on a fresh database of the engine under test, with the demo catalog and an
    admin."""
    with fresh_database(folder, "store_clients") as url:
        # Limits off: the flows log in and write from one address within seconds.
        live = LiveStore(url, folder / "gunicorn.log", RATELIMIT_ENABLED="false")
        try:
            live.start()
            admin_password = secrets.token_urlsafe(18)
            with live.app.app_context():
                seed("admin", "admin@example.com", admin_password)
            document = requests.get(live.url("/api/openapi.json"), timeout=30)
            assert document.status_code == 200, document.text[:500]
            assert document.json()["openapi"].startswith("3."), document.text[:200]
            yield SimpleNamespace(live=live, admin_password=admin_password, folder=folder)
        finally:
            live.stop()


@pytest.fixture(scope="module")
def store(app, tmp_path_factory):
    """A live store shared by the typed client's steps."""
    _require_node_clients()
    with _live_store(tmp_path_factory.mktemp("clients")) as live_store:
        yield live_store


@pytest.fixture
def postman_store(app, tmp_path_factory):
    """A live store of its own for the Postman flow: the document's examples (product 1,
    category 2, order 1, the alice account) are written for a freshly seeded store."""
    _require_node_clients()
    with _live_store(tmp_path_factory.mktemp("postman")) as live_store:
        yield live_store


def _admin_token(store) -> str:
    response = requests.post(
        store.live.url("/api/auth/login"),
        json={"username": "admin", "password": store.admin_password},
        timeout=30,
    )
    assert response.status_code == 200, response.text[:500]
    return response.json()["access_token"]


def run_client(store, step: str, command: list[str], **env: str) -> str:
    """Run one client command; fail with its whole output (and the server's log) unless it
    exits 0."""
    completed = subprocess.run(  # fixed commands, no shell
        command,
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "STORE_URL": store.live.base_url,
            "STORE_ADMIN_USERNAME": "admin",
            "STORE_ADMIN_PASSWORD": store.admin_password,
            "NO_COLOR": "1",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT_S,
        check=False,
    )
    output = f"$ {' '.join(command)}\n{completed.stdout}\n{completed.stderr}".rstrip()
    if completed.returncode != 0:
        pytest.fail(
            f"{step} exited {completed.returncode}:\n{output}\n\n"
            f"--- server log (tail) ---\n{store.live.log_tail()}",
            pytrace=False,
        )
    print(output)
    return output


def test_postman_collection_runs_the_shopping_flow(postman_store):
    store = postman_store
    output = run_client(
        store,
        "the Postman flow (openapi-to-postmanv2 + newman)",
        [
            "node",
            str(POSTMAN_FLOW),
            "--base-url",
            store.live.base_url,
            "--out",
            str(store.folder / "postman"),
        ],
        STORE_ADMIN_TOKEN=_admin_token(store),
    )
    assert "all passed" in output
    # Folders by tag: what the converter made, as Postman shows it.
    generated = store.folder / "postman" / "generated.postman_collection.json"
    folders = {item["name"] for item in json.loads(generated.read_text())["item"]}
    assert {"auth", "products", "categories", "cart", "orders"} <= folders


def test_typed_client_runs_the_shopping_flow(store):
    run_client(
        store,
        "openapi-typescript",
        [
            _tool("openapi-typescript"),
            store.live.url("/api/openapi.json"),
            "--read-write-markers",
            "--default-non-nullable",
            "false",
            "-o",
            str(TS_TYPES),
        ],
    )
    check = [_tool("tsc"), "-p", str(TS_DIR), "--strict", "--noEmit"]
    run_client(store, "tsc --strict --noEmit", check)
    run_client(store, "tsc (compile)", [_tool("tsc"), "-p", str(TS_DIR)])
    output = run_client(store, "the typed client", ["node", str(TS_BUILT)])
    assert "the whole flow passed" in output


def test_typed_client_uses_no_escape_hatches():
    """The type check means something only if the program does not switch it off."""
    source = TS_SOURCE.read_text()
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", source, flags=re.DOTALL)  # comments out
    code = re.sub(r"(['\"`])(?:\\.|(?!\1).)*\1", '""', code)  # string contents out
    assert not re.search(r"@ts-(expect-error|ignore|nocheck)", source)
    assert not re.search(r"\bany\b", code), "no `any` (casts or annotations)"
    assert not re.search(r"[\w)\]]!(?!=)", code), "no non-null assertions (`x!`)"
    config = json.loads((TS_DIR / "tsconfig.json").read_text())["compilerOptions"]
    assert config["strict"] is True


def test_npm_pins_are_exact_and_name_no_registry():
    """package.json pins exact versions; the lockfile records no registry URL ("resolved"),
    so installs go through whatever registry the machine's npm is configured with."""
    manifest = json.loads((PROJECT_ROOT / "package.json").read_text())
    pins = {**manifest.get("dependencies", {}), **manifest.get("devDependencies", {})}
    assert set(PACKAGES) <= set(pins)
    for name, version in pins.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}: {version} is not an exact pin"
    lock_text = (PROJECT_ROOT / "package-lock.json").read_text()
    lock = json.loads(lock_text)
    assert all("resolved" not in entry for entry in lock["packages"].values())
    assert not re.search(r"registry|npmjs|yarnpkg", lock_text, re.IGNORECASE)
    npmrc = (PROJECT_ROOT / ".npmrc").read_text()
    assert "omit-lockfile-registry-resolved=true" in npmrc
