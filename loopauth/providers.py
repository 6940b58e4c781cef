"""Built-in provider presets and the user's ``providers.toml``, for both protocols.

A table with ``token_url`` is an OAuth 2.0 provider; one with the three OAuth 1.0a URLs
(``request_token_url``, ``authorize_url``, ``access_token_url``) is an OAuth 1.0a provider.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .errors import UsageError
from .models import SIGNATURE_METHODS, AnyProvider, OAuth2Provider, Provider
from .urls import check_endpoint

_X = "https://api.x.com"
_ENTRA = "https://login.microsoftonline.com/common"

PRESETS: dict[str, AnyProvider] = {
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

# OAuth 2.0 with PKCE. Each one's users register the exact callback loopauth prints; the notes in the
# README ("OAuth 2.0") say what each provider's app settings want.
PRESETS.update(
    {
        # X API v2 user context: access tokens live 2 h, refresh tokens rotate (offline.access).
        "x-oauth2": OAuth2Provider(
            name="x-oauth2",
            authorize_url="https://x.com/i/oauth2/authorize",
            token_url=f"{_X}/2/oauth2/token",
            revoke_url=f"{_X}/2/oauth2/revoke",
            verify_url=f"{_X}/2/users/me",
            scopes=("tweet.read", "users.read", "offline.access"),
        ),
        # A "Desktop app" client: any loopback port is accepted; its secret is not secret (RFC 8252 §8.5).
        # access_type=offline asks for a refresh token, prompt=consent for a new one at each login.
        "google": OAuth2Provider(
            name="google",
            authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
            token_url="https://oauth2.googleapis.com/token",
            revoke_url="https://oauth2.googleapis.com/revoke",
            verify_url="https://openidconnect.googleapis.com/v1/userinfo",
            scopes=("openid", "email", "profile"),
            authorize_params={"access_type": "offline", "prompt": "consent"},
            client_auth="post",
        ),
        # gitlab.com applications (self-managed: copy this table into providers.toml with your host).
        # Tokens live 2 h and refresh tokens rotate.
        "gitlab": OAuth2Provider(
            name="gitlab",
            authorize_url="https://gitlab.com/oauth/authorize",
            token_url="https://gitlab.com/oauth/token",
            revoke_url="https://gitlab.com/oauth/revoke",
            verify_url="https://gitlab.com/api/v4/user",
            scopes=("read_user",),
        ),
        # OAuth apps and GitHub Apps: the web flow through the loopback (PKCE; the client secret too, in the
        # body) and the device flow (--device, no secret). GitHub answers errors with HTTP 200 and wants
        # Accept: application/json; a GitHub App's expiring user tokens (8 h) come with refresh tokens that
        # rotate. It has no RFC 7009 revocation endpoint.
        "github": OAuth2Provider(
            name="github",
            authorize_url="https://github.com/login/oauth/authorize",
            token_url="https://github.com/login/oauth/access_token",
            verify_url="https://api.github.com/user",
            device_authorization_url="https://github.com/login/device/code",
            client_auth="post",
        ),
        # Microsoft Entra ID, any tenant and personal accounts (common). Static, as every preset is: the
        # discovery document of `common` names an issuer template, which each ID token's tid fills.
        "microsoft": OAuth2Provider(
            name="microsoft",
            authorize_url=f"{_ENTRA}/oauth2/v2.0/authorize",
            token_url=f"{_ENTRA}/oauth2/v2.0/token",
            verify_url="https://graph.microsoft.com/oidc/userinfo",
            scopes=("openid", "profile", "email", "offline_access"),
            client_auth="post",
            issuer="https://login.microsoftonline.com/{tenantid}/v2.0",
            jwks_url=f"{_ENTRA}/discovery/v2.0/keys",
            device_authorization_url=f"{_ENTRA}/oauth2/v2.0/devicecode",
        ),
        # Loopback redirects must be IP literals (http://127.0.0.1:PORT/callback), never localhost.
        "spotify": OAuth2Provider(
            name="spotify",
            authorize_url="https://accounts.spotify.com/authorize",
            token_url="https://accounts.spotify.com/api/token",
            verify_url="https://api.spotify.com/v1/me",
            scopes=("user-read-private", "user-read-email"),
        ),
    }
)

ALIASES = {"x": "twitter", "twitter-oauth2": "x-oauth2"}


def twitter_authorize_params(*, force_login: bool = False, screen_name: str | None = None) -> dict[str, str]:
    """Twitter's extras for its OAuth 1.0a authorize page: ask for the password again, prefill an account."""
    params = {"force_login": "true"} if force_login else {}
    if screen_name:
        params["screen_name"] = screen_name
    return params


# What a providers.toml table may set: every field of its protocol's provider but the name (the table's own).
_FIELDS = frozenset(Provider._fields) - {"name"}
_FIELDS_OAUTH2 = frozenset(OAuth2Provider._fields) - {"name"}
ENDPOINTS = (
    "request_token_url",
    "authorize_url",
    "access_token_url",
    "token_url",
    "verify_url",
    "revoke_url",
    "device_authorization_url",
    "jwks_url",
)
_OPTIONAL = frozenset({"verify_url", "revoke_url", "device_authorization_url", "jwks_url"})
# With an issuer, the login discovers what is not given.
_DISCOVERABLE = frozenset({"authorize_url", "token_url"})
CLIENT_AUTH = ("basic", "post")


def check_provider(provider: AnyProvider) -> AnyProvider:
    """Refuse endpoints a login must never talk to (UsageError whose ``argument`` names the field)."""
    issuer = getattr(provider, "issuer", None)
    if issuer is not None:
        from .oidc.discovery import check_issuer

        try:
            check_issuer(issuer)
        except UsageError as exc:
            raise UsageError(exc.message, argument="issuer") from None
    for key in ENDPOINTS:
        if key not in provider._fields:
            continue
        url = getattr(provider, key)
        # A device-only provider (RFC 8628) needs no authorize page.
        device_only = key == "authorize_url" and getattr(provider, "device_authorization_url", None)
        if url or not (key in _OPTIONAL or (issuer and key in _DISCOVERABLE) or device_only):
            try:
                check_endpoint(url, "{arg}")
            except UsageError as exc:
                raise UsageError(exc.message, argument=key) from None
    return provider


def resolve_provider(provider: AnyProvider | str, config_dir: Path | None = None) -> AnyProvider:
    """A provider as given, or by name from ``providers.toml`` and the presets; its endpoints checked."""
    return check_provider(provider if not isinstance(provider, str) else resolve(provider, config_dir))


def providers_file(config_dir: Path) -> Path:
    return config_dir / "providers.toml"


def load_custom(path: Path) -> dict[str, AnyProvider]:
    """Read ``providers.toml``: one table per provider. Raises UsageError naming the file and line."""
    import tomllib

    from .store import read_trusted_file

    try:
        # The same checks as a profile: a regular file of at most 1 MiB (a FIFO or /dev/zero must not hang or
        # exhaust us), in a config dir that nobody else can write to (a planted [twitter] would take the
        # preset's place): StoreError otherwise.
        raw = read_trusted_file(path, "providers file")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UsageError(f"{path}:{line}: not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python before 3.14 has the position only in the message: "... (at line 3, column 7)".
        message = str(exc)
        at = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        if at:
            message = f"{at.group(1)}: malformed TOML: {message[: at.start()]} (column {at.group(2)})"
        else:
            message = f"1: malformed TOML: {message}"
        raise UsageError(f"{path}:{message}") from None
    lines = text.splitlines()
    found: dict[str, AnyProvider] = {}
    for name, table in data.items():
        _check_name(name, f"{path}:{_line_of(lines, name)}")
        if not isinstance(table, dict):
            raise UsageError(f"{path}:{_line_of(lines, name)}: [{name}] must be a table of endpoints")
        found[name] = _from_table(name, table, lambda key=None, name=name: f"{path}:{_line_of(lines, name, key)}")
    return found


def _check_name(name: str, at: str) -> None:
    """A table's name must look like a profile's: completion scripts, messages and ``loopauth providers`` print it,
    so it holds nothing a shell or a terminal acts on (``$(…)``, quotes, spaces, escapes)."""
    from .store import validate_profile_name

    try:
        validate_profile_name(name)
    except UsageError:
        shown = repr(name if len(name) <= 64 else name[:64] + "…")
        raise UsageError(
            f"{at}: invalid provider name {shown}: use 1-64 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit"
        ) from None


def _from_table(name: str, table: Mapping[str, Any], at: Callable[..., str]) -> AnyProvider:
    """Check one table; ``at(key)`` is ``file:line`` of that key (or of the table, without one)."""
    if "token_url" in table or "issuer" in table:
        return _oauth2_table(name, table, at)
    # Report the field that comes first in the file: the line an editor should jump to.
    unknown = sorted(set(table) - _FIELDS, key=lambda key: at(key))
    if unknown:
        raise UsageError(
            f"{at(unknown[0])}: [{name}] has unknown field {unknown[0]!r} (known: {', '.join(sorted(_FIELDS))})"
        )
    for required in ("request_token_url", "authorize_url", "access_token_url"):
        if not isinstance(table.get(required), str):
            raise UsageError(f'{at(required if required in table else None)}: [{name}] needs {required} = "https://…"')
    for key in ("verify_url", "revoke_url", "signature_method"):
        if key in table and not isinstance(table[key], str):
            raise UsageError(f"{at(key)}: [{name}] {key} must be a string")
    method = table.get("signature_method", "HMAC-SHA1")
    if method not in SIGNATURE_METHODS:
        raise UsageError(
            f"{at('signature_method')}: [{name}] signature_method must be one of {', '.join(SIGNATURE_METHODS)}"
        )
    params = table.get("authorize_params", {})
    if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
        raise UsageError(f"{at('authorize_params')}: [{name}] authorize_params must be a table of strings")
    try:
        # The types are checked above; the same reading as a profile's stored endpoints does the rest.
        provider = check_provider(Provider.from_dict({**table, "name": name}))
    except UsageError as exc:
        raise UsageError(f"{at(exc.argument)}: [{name}] {exc}") from None
    assert isinstance(provider, Provider)
    return provider


def _line_of(lines: list[str], name: str, key: str | None = None) -> int:
    """The line of table ``[name]`` (or of its ``key`` inside it), for error messages.

    tomllib does not report positions of valid documents, so this looks for the
    header (``[name]``, ``[ "name" ]``) or an inline ``name = {…}``; a key is the
    first ``key =`` after the header and before the next one. Falls back to the
    table's line, then to line 1.
    """
    header = re.compile(rf"""^\s*\[\s*(?:{re.escape(name)}|"{re.escape(name)}"|'{re.escape(name)}')\s*\]""")
    inline = re.compile(rf"""^\s*(?:{re.escape(name)}|"{re.escape(name)}"|'{re.escape(name)}')\s*=""")
    start = next(
        (number for number, line in enumerate(lines, start=1) if header.match(line) or inline.match(line)), None
    )
    if start is None:
        start = _escaped_header(lines, name)
    if start is None:
        return 1
    if key is None:
        return start
    field = re.compile(rf"""(?:^|[{{,])\s*(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*=""")
    line = lines[start - 1]
    if inline.match(line):
        return start  # an inline table is one line
    for number in range(start + 1, len(lines) + 1):
        line = lines[number - 1]
        if re.match(r"^\s*\[", line):
            break
        if field.search(line):
            return number
    return start


def _escaped_header(lines: list[str], name: str) -> int | None:
    """The line of a ``["…"]`` header that names ``name`` through TOML escapes (``"\\u001b"``), if any."""
    import tomllib

    for number, line in enumerate(lines, start=1):
        if line.lstrip().startswith("["):
            try:
                if name in tomllib.loads(line.strip()):
                    return number
            except tomllib.TOMLDecodeError:
                continue
    return None


def _oauth2_table(name: str, table: Mapping[str, Any], at: Callable[..., str]) -> OAuth2Provider:
    """An OAuth 2.0 table: ``token_url`` and ``authorize_url`` (or an ``issuer`` to discover them from), optionally
    revoke/verify URLs, scopes and more."""
    unknown = sorted(set(table) - _FIELDS_OAUTH2, key=lambda key: at(key))
    if unknown:
        why = "it has token_url" if "token_url" in table else "it has an issuer"
        raise UsageError(
            f"{at(unknown[0])}: [{name}] (OAuth 2.0, {why}) has unknown field {unknown[0]!r} "
            f"(known: {', '.join(sorted(_FIELDS_OAUTH2))})"
        )
    for required in ("authorize_url", "token_url"):
        device_only = required == "authorize_url" and "device_authorization_url" in table
        if not isinstance(table.get(required), str) and "issuer" not in table and not device_only:
            raise UsageError(f'{at(required if required in table else None)}: [{name}] needs {required} = "https://…"')
    for key in (*ENDPOINTS, "issuer", "client_auth"):
        if key in table and not isinstance(table[key], str):
            raise UsageError(f"{at(key)}: [{name}] {key} must be a string")
    if "requires_iss" in table and not isinstance(table["requires_iss"], bool):
        raise UsageError(f"{at('requires_iss')}: [{name}] requires_iss must be true or false")
    if table.get("client_auth", "basic") not in CLIENT_AUTH:
        raise UsageError(f"{at('client_auth')}: [{name}] client_auth must be one of {', '.join(CLIENT_AUTH)}")
    scopes = table.get("scopes", [])
    if not (isinstance(scopes, str) or (isinstance(scopes, list) and all(isinstance(s, str) for s in scopes))):
        raise UsageError(f'{at("scopes")}: [{name}] scopes must be a list of strings or one "a b c" string')
    params = table.get("authorize_params", {})
    if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
        raise UsageError(f"{at('authorize_params')}: [{name}] authorize_params must be a table of strings")
    try:
        provider = check_provider(OAuth2Provider.from_dict({**table, "name": name}))
    except UsageError as exc:
        raise UsageError(f"{at(exc.argument)}: [{name}] {exc}") from None
    assert isinstance(provider, OAuth2Provider)
    return provider


def resolve(name: str, config_dir: Path | None = None) -> AnyProvider:
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
