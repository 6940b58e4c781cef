"""The package's shape: which module may import which, and where a login's protocol is asked for.

Dependencies run one way: CLI → library facade → protocols and loopback → store → values. After the login,
only :func:`loopauth.protocols.access_for` (and the protocol packages themselves) ask which protocol a profile
speaks; everything else uses the profile's :class:`~loopauth.access.Access`.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import loopauth

PACKAGE = Path(loopauth.__file__).parent
CREDENTIALS = {"Credentials", "OAuth2Credentials", "AnyCredentials"}
# Where a login's protocol may be asked for: the chooser, and the protocols themselves (the demo is a provider).
MAY_ASK = ("protocols.py", "oauth1/", "oauth2/", "demo/")
# The hint that the OAuth 1.0a demo provider is not running is about that demo's consumer, not about signing.
ASKS_FOR_A_REASON = {"cli/errors.py"}
VALUES = {"errors", "models", "text", "urls", "_version"}
STORE = {"store"}


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def imported(name: str, tree: ast.Module) -> Iterator[tuple[str, list[str]]]:
    """(absolute module, names) for each ``from … import`` of loopauth in module ``name``, lazy ones included."""
    package = ["loopauth", *name.removesuffix(".py").split("/")[:-1]]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            module = ".".join([*base, node.module] if node.module else base)
            yield module, [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("loopauth"):
            yield str(node.module), [alias.name for alias in node.names]


def test_after_the_login_only_access_for_asks_for_the_protocol() -> None:
    """No isinstance on credentials and no ``.protocol ==`` outside the chooser and the protocol packages."""
    found = []
    for name, tree in modules():
        if name.startswith(MAY_ASK) or name in ASKS_FOR_A_REASON:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance":
                classes = ast.unparse(node.args[1])
                if any(cls in classes.replace("(", " ").replace(",", " ").split() for cls in CREDENTIALS):
                    found.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                asks = any(isinstance(s, ast.Attribute) and s.attr == "protocol" for s in sides)
                if asks and any(isinstance(s, ast.Constant) and s.value in ("oauth1", "oauth2") for s in sides):
                    found.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
    assert found == []


def test_no_module_imports_another_modules_private_name() -> None:
    found = [
        f"{name}: {module}.{imported_name}"
        for name, tree in modules()
        for module, names in imported(name, tree)
        for imported_name in names
        if imported_name.startswith("_") and not imported_name.startswith("__")
    ]
    assert found == []


def test_imports_run_one_way() -> None:
    """The library never imports the CLI; the protocols never import the login runner or the library facade; the
    HTTP-client adapters authorize through Access, not through loopauth.calls; the store imports only values."""
    wrong = []
    for name, tree in modules():
        for module, _ in imported(name, tree):
            target = module.removeprefix("loopauth.").split(".")
            if not name.startswith(("cli/", "__main__.py")) and target[0] == "cli":
                wrong.append(f"{name} imports {module}")
            if name.startswith(("oauth1/", "oauth2/")) and (
                module == "loopauth.loopback.runner" or target[0] in ("api", "calls", "auth", "kwargs")
            ):
                wrong.append(f"{name} imports {module}")
            if name.startswith("auth/") and target[0] == "calls":
                wrong.append(f"{name} imports {module}")
            top = name.split("/")[0].removesuffix(".py")
            if top in STORE and module != "loopauth" and target[0] not in VALUES | STORE:
                wrong.append(f"{name} imports {module}")
    assert wrong == []


def test_the_library_has_no_import_cycles() -> None:
    """No two library modules import each other, lazily or not (the store and its settings did); the CLI and the
    embedded demo provider are left out."""
    graph: dict[str, set[str]] = {}
    for name, tree in modules():
        if name.startswith(("cli/", "demo/", "__main__")):
            continue
        own = "loopauth." + name.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        graph[own] = set()
        for module, names in imported(name, tree):
            for target in (module, *(f"{module}.{n}" for n in names)):
                if target != own and target.removeprefix("loopauth.").split(".")[0] not in ("cli", "demo"):
                    graph[own].add(target)
    cycles = []
    for start in graph:
        seen: set[str] = set()
        todo = [start]
        while todo:
            for target in graph.get(todo.pop(), ()):
                if target == start:
                    cycles.append(start)
                elif target not in seen:
                    seen.add(target)
                    todo.append(target)
    assert cycles == []


def test_the_store_chooses_a_backend_in_one_place() -> None:
    """Only ``backend_for`` compares a store kind with FILE or KEYRING; everything else asks the profile's backend.
    The keyring's field layout is the keyring backend's, not the models'."""
    found = []
    for name, tree in modules():
        if not name.startswith("store"):
            continue
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef) or function.name == "backend_for":
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Compare):
                    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                    if names & {"FILE", "KEYRING"}:
                        found.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
    assert found == []
    models = ast.parse((PACKAGE / "models.py").read_text(encoding="utf-8"))
    assert not {"SECRET_FIELDS", "split_secrets", "join_secrets"} & {
        getattr(n, "name", None) or next((t.id for t in getattr(n, "targets", []) if isinstance(t, ast.Name)), None)
        for n in models.body
    }


def test_signing_is_pure_and_changes_no_logging_at_import() -> None:
    """oauth1/signing.py reads no file and installs oauthlib's log filter only when oauthlib's client is loaded."""
    tree = ast.parse((PACKAGE / "oauth1" / "signing.py").read_text(encoding="utf-8"))
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    attributes = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    modules_used = {alias.name for n in ast.walk(tree) if isinstance(n, ast.Import) for alias in n.names} | {
        str(n.module) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
    }
    assert "open" not in names
    assert not {"read_text", "read_bytes", "addFilter"} & attributes
    assert not {"pathlib", "logging", "os"} & modules_used
    code = (
        "import logging, json, loopauth.oauth1.signing as s\n"
        "log = logging.getLogger('oauthlib.oauth1.rfc5849')\n"
        "before = len(log.filters)\n"
        "s.sign('GET', 'https://example.com/', s.Consumer('k', 's'))\n"
        "print(json.dumps([before, len(log.filters)]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=dict(os.environ))
    assert json.loads(out.stdout) == [0, 1]


@pytest.mark.parametrize("protocol", ["oauth1", "oauth2"])
def test_each_protocol_has_one_access_with_its_label_and_fields(protocol: str) -> None:
    from loopauth.access import Access
    from loopauth.models import OAuth2Provider, credentials_from_dict
    from loopauth.protocols import access_for

    data: dict[str, object] = {"profile": "p", "provider": "demo", "protocol": protocol}
    if protocol == "oauth1":
        data.update(consumer_key="ck", consumer_secret="cs", oauth_token="t", oauth_token_secret="ts")
    else:
        endpoints = OAuth2Provider("demo", "https://example.com/a", "https://example.com/t").to_dict()
        data.update(client_id="c", access_token="at", refresh_token="rt", endpoints=endpoints)
    access = access_for(credentials_from_dict(data))
    assert isinstance(access, Access)
    assert access.protocol == protocol
    assert access.label == {"oauth1": "OAuth 1.0a", "oauth2": "OAuth 2.0"}[protocol]
    assert "refresh_token" not in access.env_fields
    assert access.expires is (protocol == "oauth2")
    assert access.retry_after(401) is (protocol == "oauth2")
    assert not access.retry_after(500)
    header = access.authorize("GET", "https://example.com/r?q=1").headers["Authorization"]
    assert header.startswith("OAuth " if protocol == "oauth1" else "Bearer at")
