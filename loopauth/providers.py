"""Built-in provider presets and the user's ``providers.toml``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import UsageError
from .models import SIGNATURE_METHODS, Provider
from .protocol import check_endpoint

_X = "https://api.x.com"

PRESETS: dict[str, Provider] = {
    "twitter": Provider(
        name="twitter",
        request_token_url=f"{_X}/oauth/request_token",
        authorize_url=f"{_X}/oauth/authorize",
        access_token_url=f"{_X}/oauth/access_token",
        verify_url=f"{_X}/1.1/account/verify_credentials.json",
        revoke_url=f"{_X}/1.1/oauth/invalidate_token",
    ),
    "trello": Provider(
        name="trello",
        request_token_url="https://trello.com/1/OAuthGetRequestToken",
        authorize_url="https://trello.com/1/OAuthAuthorizeToken",
        access_token_url="https://trello.com/1/OAuthGetAccessToken",
        verify_url="https://api.trello.com/1/members/me",
        authorize_params={"name": "loopauth", "scope": "read", "expiration": "30days"},
    ),
    "flickr": Provider(
        name="flickr",
        request_token_url="https://www.flickr.com/services/oauth/request_token",
        authorize_url="https://www.flickr.com/services/oauth/authorize",
        access_token_url="https://www.flickr.com/services/oauth/access_token",
        verify_url="https://api.flickr.com/services/rest?method=flickr.test.login&format=json&nojsoncallback=1",
        authorize_params={"perms": "read"},
    ),
    "tumblr": Provider(
        name="tumblr",
        request_token_url="https://www.tumblr.com/oauth/request_token",
        authorize_url="https://www.tumblr.com/oauth/authorize",
        access_token_url="https://www.tumblr.com/oauth/access_token",
        verify_url="https://api.tumblr.com/v2/user/info",
    ),
    "smugmug": Provider(
        name="smugmug",
        request_token_url="https://api.smugmug.com/services/oauth/1.0a/getRequestToken",
        authorize_url="https://api.smugmug.com/services/oauth/1.0a/authorize",
        access_token_url="https://api.smugmug.com/services/oauth/1.0a/getAccessToken",
        verify_url="https://api.smugmug.com/api/v2!authuser",
        authorize_params={"Access": "Public", "Permissions": "Read"},
    ),
    "discogs": Provider(
        name="discogs",
        request_token_url="https://api.discogs.com/oauth/request_token",
        authorize_url="https://www.discogs.com/oauth/authorize",
        access_token_url="https://api.discogs.com/oauth/access_token",
        verify_url="https://api.discogs.com/oauth/identity",
    ),
}

ALIASES = {"x": "twitter"}

_FIELDS = {
    "request_token_url",
    "authorize_url",
    "access_token_url",
    "verify_url",
    "revoke_url",
    "signature_method",
    "authorize_params",
}


def providers_file(config_dir: Path) -> Path:
    return config_dir / "providers.toml"


def load_custom(path: Path) -> dict[str, Provider]:
    """Read ``providers.toml``: one table per provider. Raises UsageError naming the file and line."""
    import tomllib

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: {exc}") from exc
    found: dict[str, Provider] = {}
    for name, table in data.items():
        where = f"{path}:{_line_of(raw, name)}"
        if not isinstance(table, dict):
            raise UsageError(f"{where}: [{name}] must be a table of endpoints")
        found[name] = _from_table(name, table, where)
    return found


def _from_table(name: str, table: Mapping[str, Any], where: str) -> Provider:
    unknown = sorted(set(table) - _FIELDS)
    if unknown:
        raise UsageError(f"{where}: [{name}] has unknown field {unknown[0]!r} (known: {', '.join(sorted(_FIELDS))})")
    for required in ("request_token_url", "authorize_url", "access_token_url"):
        if not isinstance(table.get(required), str):
            raise UsageError(f'{where}: [{name}] needs {required} = "https://…"')
    for key in ("verify_url", "revoke_url", "signature_method"):
        if key in table and not isinstance(table[key], str):
            raise UsageError(f"{where}: [{name}] {key} must be a string")
    method = table.get("signature_method", "HMAC-SHA1")
    if method not in SIGNATURE_METHODS:
        raise UsageError(f"{where}: [{name}] signature_method must be one of {', '.join(SIGNATURE_METHODS)}")
    params = table.get("authorize_params", {})
    if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
        raise UsageError(f"{where}: [{name}] authorize_params must be a table of strings")
    try:
        for key in ("request_token_url", "authorize_url", "access_token_url", "verify_url", "revoke_url"):
            if key in table:
                check_endpoint(table[key], key)
    except UsageError as exc:
        raise UsageError(f"{where}: [{name}] {exc}") from exc
    return Provider(
        name=name,
        request_token_url=table["request_token_url"],
        authorize_url=table["authorize_url"],
        access_token_url=table["access_token_url"],
        verify_url=table.get("verify_url"),
        revoke_url=table.get("revoke_url"),
        signature_method=method,
        authorize_params=dict(params),
    )


def _line_of(raw: bytes, name: str) -> int:
    for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), start=1):
        stripped = line.strip()
        if stripped in (f"[{name}]", f'["{name}"]'):
            return number
    return 1


def resolve(name: str, config_dir: Path | None = None) -> Provider:
    """A preset by name (``x`` is ``twitter``), or a table of the user's providers.toml."""
    key = ALIASES.get(name.lower(), name.lower())
    if config_dir is not None:
        custom = load_custom(providers_file(config_dir))
        if name in custom:
            return custom[name]
    if key in PRESETS:
        return PRESETS[key]
    known = ", ".join(sorted([*PRESETS, *ALIASES]))
    raise UsageError(f"unknown provider {name!r} (built in: {known}; or define it in providers.toml)")
