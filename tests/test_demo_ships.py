"""What ships in ``loopauth.demo`` serves and validates; the hooks only tests use live in tests/demo_probes.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import loopauth
import loopauth.demo
from loopauth.demo import DemoProvider
from loopauth.demo.oauth2 import DemoOAuth2Provider

from . import demo_probes

PACKAGE = Path(loopauth.__file__).parent

# Every endpoint of both: counted, recorded, made to hang or fail.
SERVER_HOOKS = {"failures", "hang", "calls", "last_request_headers", "last_request_queries"}
# What the validators kept only so that the servers could report it.
OAUTH1_VALIDATOR_RECORDS = {"issued_access_tokens", "issued_secrets", "revoked_access_tokens"}
OAUTH2_VALIDATOR_RECORDS = {
    "refreshes",
    "refresh_token_reuses",
    "code_reuses",
    "issued_access_tokens",
    "issued_refresh_tokens",
    "revoked_access_tokens",
    "revoked_refresh_tokens",
    "client_auth_methods",
}
OAUTH1_HOOKS = SERVER_HOOKS | OAUTH1_VALIDATOR_RECORDS | {"callback_confirmed"}
OAUTH2_HOOKS = (
    SERVER_HOOKS | OAUTH2_VALIDATOR_RECORDS | {"access_token_is_valid", "expire_access_tokens", "code_lifetime"}
)


@pytest.mark.parametrize(
    ("shipped", "probed", "hooks"),
    [
        (DemoProvider, demo_probes.DemoProvider, OAUTH1_HOOKS),
        (DemoOAuth2Provider, demo_probes.DemoOAuth2Provider, OAUTH2_HOOKS),
    ],
    ids=["oauth1", "oauth2"],
)
def test_the_shipped_demo_providers_have_none_of_the_test_hooks(
    shipped: type[DemoProvider | DemoOAuth2Provider],
    probed: type[demo_probes.DemoProvider | demo_probes.DemoOAuth2Provider],
    hooks: set[str],
) -> None:
    assert {name for name in hooks if hasattr(shipped(), name)} == set()
    # The names stay true to the tests' classes, so this list cannot fall behind them.
    assert {name for name in hooks if not hasattr(probed(), name)} == set()


def test_the_shipped_validators_keep_no_records_for_tests() -> None:
    oauth1, oauth2 = DemoProvider(), DemoOAuth2Provider()
    assert {name for name in OAUTH1_VALIDATOR_RECORDS if hasattr(oauth1._validator, name)} == set()
    assert {name for name in OAUTH2_VALIDATOR_RECORDS if hasattr(oauth2._validator, name)} == set()
    assert not hasattr(oauth2.device, "polls")


def test_failure_is_the_tests_own() -> None:
    assert not hasattr(loopauth.demo, "Failure")
    assert "Failure" not in loopauth.demo.__all__


def test_nothing_in_the_package_imports_from_tests() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module or ""]
            else:
                continue
            if any(module == "tests" or module.startswith("tests.") for module in modules):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert found == []
