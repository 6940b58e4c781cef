"""Plain data: a provider's endpoints, a request token, stored credentials.

Everything here is immutable (mappings are read-only views of a private copy) and free of I/O, so it
can be used (and tested) without an event loop, a network or a disk.

The classes are written out by hand rather than with ``@dataclass(frozen=True)``:
``loopauth.load()`` builds a ``Credentials`` at the start of every tool that uses
a stored login, and importing ``dataclasses`` (which pulls in ``inspect``) and
generating the classes cost more than the rest of that read together.
``Value`` gives them what the decorator would: keyword construction, equality,
hashing, a ``repr`` without secrets, immutability and ``replace()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

# typing itself is not imported at run time (it is another few ms on the token path);
# mypy treats any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, Self

SIGNATURE_METHODS = ("HMAC-SHA1", "HMAC-SHA256", "PLAINTEXT", "RSA-SHA1")
REFRESH_MARGIN = 60
"""Seconds before an OAuth 2.0 access token expires when loopauth already refreshes it."""


class Value:
    """An immutable record whose fields are listed in ``_fields``: the order of ``repr`` and of equality, which
    need not be the constructor's (keywords build every record; ``OAuth2Credentials`` puts its required fields
    first). A mapping field must be given to ``_init`` through :func:`frozen_map`."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _hidden: ClassVar[frozenset[str]] = frozenset()
    """Fields left out of ``repr``: secrets never show up in a log line or a traceback."""
    _unhashed: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, **values: Any) -> None:
        # Each subclass has its own typed __init__; this one only serves replace() and unpickling.
        self._init(**values)

    def _init(self, **values: Any) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: {type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: {type(self).__name__} is immutable")

    def _astuple(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Value)
        return self._astuple() == other._astuple()

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, name) for name in self._fields if name not in self._unhashed))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields if name not in self._hidden)
        return f"{type(self).__name__}({shown})"

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed, like ``dataclasses.replace``."""
        unknown = set(changes) - set(self._fields)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        values = {name: getattr(self, name) for name in self._fields}
        values.update(changes)
        return type(self)(**values)

    # Pickling and copy.copy go through __reduce__, which would otherwise set state with the blocked __setattr__.
    # A read-only mapping cannot be pickled: it travels as a dict, which the constructor freezes again.
    def __reduce__(self) -> tuple[Any, ...]:
        values = {name: getattr(self, name) for name in self._fields}
        thawed = {name: dict(value) if isinstance(value, MappingProxyType) else value for name, value in values.items()}
        return (_rebuild, (type(self), thawed))


def _rebuild(cls: type[Value], values: dict[str, Any]) -> Value:
    return cls(**values)


def frozen_map(values: Mapping[str, str] | None) -> Mapping[str, str]:
    """A read-only copy of ``values``: a record's mapping cannot change behind its back, nor through it."""
    return MappingProxyType(dict(values or {}))


class Provider(Value):
    """An OAuth 1.0a provider: its three endpoints and optional extras."""

    protocol: ClassVar[str] = "oauth1"

    _fields = (
        "name",
        "request_token_url",
        "authorize_url",
        "access_token_url",
        "verify_url",
        "revoke_url",
        "signature_method",
        "authorize_params",
    )
    _unhashed = frozenset({"authorize_params"})

    name: str
    request_token_url: str
    authorize_url: str
    access_token_url: str
    verify_url: str | None
    revoke_url: str | None
    signature_method: str
    authorize_params: Mapping[str, str]

    def __init__(
        self,
        name: str,
        request_token_url: str,
        authorize_url: str,
        access_token_url: str,
        verify_url: str | None = None,
        revoke_url: str | None = None,
        signature_method: str = "HMAC-SHA1",
        authorize_params: Mapping[str, str] | None = None,
    ) -> None:
        self._init(
            name=name,
            request_token_url=request_token_url,
            authorize_url=authorize_url,
            access_token_url=access_token_url,
            verify_url=verify_url,
            revoke_url=revoke_url,
            signature_method=signature_method,
            authorize_params=frozen_map(authorize_params),
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "request_token_url": self.request_token_url,
            "authorize_url": self.authorize_url,
            "access_token_url": self.access_token_url,
            "signature_method": self.signature_method,
        }
        if self.verify_url:
            data["verify_url"] = self.verify_url
        if self.revoke_url:
            data["revoke_url"] = self.revoke_url
        if self.authorize_params:
            data["authorize_params"] = dict(self.authorize_params)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Provider:
        return cls(
            name=str(data["name"]),
            request_token_url=str(data["request_token_url"]),
            authorize_url=str(data["authorize_url"]),
            access_token_url=str(data["access_token_url"]),
            verify_url=_opt_str(data.get("verify_url")),
            revoke_url=_opt_str(data.get("revoke_url")),
            signature_method=str(data.get("signature_method") or "HMAC-SHA1"),
            authorize_params={str(k): str(v) for k, v in dict(data.get("authorize_params") or {}).items()},
        )


class RequestToken(Value):
    """The temporary credentials of RFC 5849 §2.1."""

    _fields = ("oauth_token", "oauth_token_secret")
    _hidden = frozenset({"oauth_token_secret"})

    oauth_token: str
    oauth_token_secret: str

    def __init__(self, oauth_token: str, oauth_token_secret: str) -> None:
        self._init(oauth_token=oauth_token, oauth_token_secret=oauth_token_secret)


class Credentials(Value):
    """The token credentials of one OAuth 1.0a login, as stored in a profile file.

    Secrets are left out of ``repr`` so a stray ``print(creds)`` or a log line
    never shows them.
    """

    protocol: ClassVar[str] = "oauth1"

    _fields = (
        "profile",
        "provider",
        "consumer_key",
        "consumer_secret",
        "oauth_token",
        "oauth_token_secret",
        "user_id",
        "screen_name",
        "created_at",
        "endpoints",
        "rsa_key_file",
        "origin",
    )
    _hidden = frozenset({"consumer_secret", "oauth_token", "oauth_token_secret", "endpoints"})

    profile: str
    provider: str
    consumer_key: str
    consumer_secret: str
    oauth_token: str
    oauth_token_secret: str
    user_id: str | None
    screen_name: str | None
    created_at: str | None
    endpoints: Provider | None
    rsa_key_file: str | None
    origin: str | None
    """How the profile was made: None for a login (and older files), ``"add"`` for ``loopauth add``."""

    def __init__(
        self,
        profile: str,
        provider: str,
        consumer_key: str,
        consumer_secret: str,
        oauth_token: str,
        oauth_token_secret: str,
        user_id: str | None = None,
        screen_name: str | None = None,
        created_at: str | None = None,
        endpoints: Provider | None = None,
        rsa_key_file: str | None = None,
        origin: str | None = None,
    ) -> None:
        self._init(
            profile=profile,
            provider=provider,
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            oauth_token=oauth_token,
            oauth_token_secret=oauth_token_secret,
            user_id=user_id,
            screen_name=screen_name,
            created_at=created_at,
            endpoints=endpoints,
            rsa_key_file=rsa_key_file,
            origin=origin,
        )

    @property
    def signature_method(self) -> str:
        return self.endpoints.signature_method if self.endpoints else "HMAC-SHA1"

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``loopauth token --json`` and of the profile file."""
        data: dict[str, Any] = {
            "profile": self.profile,
            "provider": self.provider,
            "consumer_key": self.consumer_key,
            "consumer_secret": self.consumer_secret,
            "oauth_token": self.oauth_token,
            "oauth_token_secret": self.oauth_token_secret,
            "user_id": self.user_id,
            "screen_name": self.screen_name,
            "created_at": self.created_at,
            "signature_method": self.signature_method,
        }
        if self.rsa_key_file:
            data["rsa_key_file"] = self.rsa_key_file
        if self.endpoints is not None:
            data["endpoints"] = self.endpoints.to_dict()
        if self.origin:
            data["origin"] = self.origin
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Credentials:
        """Build from a parsed profile file; raises KeyError/TypeError/ValueError if malformed."""
        endpoints = data.get("endpoints")
        rsa = isinstance(endpoints, Mapping) and endpoints.get("signature_method") == "RSA-SHA1"
        for key in ("profile", "provider", "consumer_key", "consumer_secret", "oauth_token", "oauth_token_secret"):
            # An RSA-SHA1 consumer (Jira, Confluence) signs with its private key and may have no secret at all.
            may_be_empty = rsa and key == "consumer_secret"
            if not isinstance(data.get(key), str) or not (data[key] or may_be_empty):
                raise ValueError(f"missing or invalid field {key!r}")
        return cls(
            profile=data["profile"],
            provider=data["provider"],
            consumer_key=data["consumer_key"],
            consumer_secret=data["consumer_secret"],
            oauth_token=data["oauth_token"],
            oauth_token_secret=data["oauth_token_secret"],
            user_id=_opt_str(data.get("user_id")),
            screen_name=_opt_str(data.get("screen_name")),
            created_at=_opt_str(data.get("created_at")),
            endpoints=Provider.from_dict(endpoints) if isinstance(endpoints, Mapping) else None,
            rsa_key_file=_opt_str(data.get("rsa_key_file")),
            origin=_opt_str(data.get("origin")),
        )

    def token_dict(self) -> dict[str, Any]:
        """What ``loopauth token`` prints: the consumer and the token pair, and who they are for."""
        data = self.to_dict()
        data.pop("origin", None)  # how the profile came to be is status's business, not a credential
        return data

    def public_dict(self) -> dict[str, Any]:
        """What may be shown without being asked for secrets (``loopauth list``)."""
        return {
            "profile": self.profile,
            "provider": self.provider,
            "protocol": "oauth1",
            "user_id": self.user_id,
            "screen_name": self.screen_name,
            "created_at": self.created_at,
            "origin": self.origin or "login",
        }


def split_scope(scopes: str | Sequence[str]) -> tuple[str, ...]:
    """Scopes as a tuple: a string is split on whitespace, as RFC 6749 §3.3 writes them; a sequence is kept."""
    return tuple(scopes.split()) if isinstance(scopes, str) else tuple(scopes)


PROTOCOL_LABELS = {"oauth1": "OAuth 1.0a", "oauth2": "OAuth 2.0"}
"""How messages and listings name each protocol."""


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


class OAuth2Provider(Value):
    """An OAuth 2.0 provider (authorization code with PKCE): its endpoints, default scopes and extras.

    ``client_auth`` is how a confidential client authenticates at the token endpoint: ``basic``
    (``client_secret_basic``, RFC 6749 §2.3.1) or ``post`` (``client_secret_post``).

    ``issuer`` names an OpenID Provider (or an RFC 8414 authorization server): a login reads its discovery
    document for the endpoints not given (``authorize_url`` and ``token_url`` may then be empty), and checks ID
    tokens and the authorization response's ``iss`` against it. ``jwks_url`` is where its signing keys are,
    ``device_authorization_url`` its RFC 8628 endpoint, and ``requires_iss`` whether its authorization responses
    always carry ``iss`` (RFC 9207). A profile stores them all, discovered or not: nothing is discovered again
    until the next login.
    """

    protocol: ClassVar[str] = "oauth2"
    _fields = (
        "name",
        "authorize_url",
        "token_url",
        "revoke_url",
        "verify_url",
        "scopes",
        "authorize_params",
        "client_auth",
        "issuer",
        "jwks_url",
        "device_authorization_url",
        "requires_iss",
    )
    _unhashed = frozenset({"authorize_params"})

    name: str
    authorize_url: str
    token_url: str
    revoke_url: str | None
    verify_url: str | None
    scopes: tuple[str, ...]
    authorize_params: Mapping[str, str]
    client_auth: str
    issuer: str | None
    jwks_url: str | None
    device_authorization_url: str | None
    requires_iss: bool

    def __init__(
        self,
        name: str,
        authorize_url: str,
        token_url: str,
        revoke_url: str | None = None,
        verify_url: str | None = None,
        scopes: Sequence[str] = (),
        authorize_params: Mapping[str, str] | None = None,
        client_auth: str = "basic",
        issuer: str | None = None,
        jwks_url: str | None = None,
        device_authorization_url: str | None = None,
        requires_iss: bool = False,
    ) -> None:
        self._init(
            name=name,
            authorize_url=authorize_url,
            token_url=token_url,
            revoke_url=revoke_url,
            verify_url=verify_url,
            scopes=split_scope(scopes),
            authorize_params=frozen_map(authorize_params),
            client_auth=client_auth,
            issuer=issuer,
            jwks_url=jwks_url,
            device_authorization_url=device_authorization_url,
            requires_iss=requires_iss,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "protocol": "oauth2",
            "authorize_url": self.authorize_url,
            "token_url": self.token_url,
            "scopes": list(self.scopes),
            "client_auth": self.client_auth,
        }
        if self.revoke_url:
            data["revoke_url"] = self.revoke_url
        if self.verify_url:
            data["verify_url"] = self.verify_url
        if self.authorize_params:
            data["authorize_params"] = dict(self.authorize_params)
        for key in ("issuer", "jwks_url", "device_authorization_url"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.requires_iss:
            data["requires_iss"] = True
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OAuth2Provider:
        scopes = data.get("scopes") or ()
        return cls(
            name=str(data["name"]),
            authorize_url=str(data.get("authorize_url") or ""),
            token_url=str(data.get("token_url") or ""),
            revoke_url=_opt_str(data.get("revoke_url")),
            verify_url=_opt_str(data.get("verify_url")),
            scopes=tuple(str(s) for s in split_scope(scopes)),
            authorize_params={str(k): str(v) for k, v in dict(data.get("authorize_params") or {}).items()},
            client_auth=str(data.get("client_auth") or "basic"),
            issuer=_opt_str(data.get("issuer")),
            jwks_url=_opt_str(data.get("jwks_url")),
            device_authorization_url=_opt_str(data.get("device_authorization_url")),
            requires_iss=data.get("requires_iss") is True,
        )


AnyProvider = Provider | OAuth2Provider


class OAuth2Credentials(Value):
    """The tokens of one OAuth 2.0 login, as stored in a profile file (``"protocol": "oauth2"``).

    ``expires_at`` and ``issued_at`` are absolute (seconds since the epoch); ``needs_login`` is set when
    the provider refused the refresh token, so the profile stays visible but hands out nothing. The
    refresh token never leaves loopauth: it is not in :meth:`public_dict` nor in ``loopauth token``.
    """

    protocol: ClassVar[str] = "oauth2"
    _fields = (
        "profile",
        "provider",
        "client_id",
        "client_secret",
        "access_token",
        "refresh_token",
        "token_type",
        "expires_at",
        "issued_at",
        "scope",
        "user_id",
        "screen_name",
        "created_at",
        "endpoints",
        "needs_login",
        "origin",
        "refreshing",
        "id_token",
    )
    _hidden = frozenset({"client_secret", "access_token", "refresh_token", "endpoints", "id_token"})

    profile: str
    provider: str
    client_id: str
    client_secret: str | None
    access_token: str
    refresh_token: str | None
    token_type: str
    expires_at: int | None
    issued_at: int | None
    scope: str | None
    user_id: str | None
    screen_name: str | None
    created_at: str | None
    endpoints: OAuth2Provider
    needs_login: bool
    origin: str | None
    """How the profile was made: None for a login (and older files), ``"add"`` for ``loopauth add``."""
    refreshing: bool
    """A refresh was sent and its outcome is unknown (killed, timed out, an answer that could not be used): the
    refresh token may be spent, and sending it again could end the login (RFC 9700 §4.14.2)."""
    id_token: str | None
    """The OpenID Connect ID token of the login (or of the last refresh that sent one), verified when received."""

    def __init__(
        self,
        profile: str,
        provider: str,
        client_id: str,
        access_token: str,
        endpoints: OAuth2Provider,
        client_secret: str | None = None,
        refresh_token: str | None = None,
        token_type: str = "bearer",
        expires_at: int | None = None,
        issued_at: int | None = None,
        scope: str | None = None,
        user_id: str | None = None,
        screen_name: str | None = None,
        created_at: str | None = None,
        needs_login: bool = False,
        origin: str | None = None,
        refreshing: bool = False,
        id_token: str | None = None,
    ) -> None:
        self._init(
            profile=profile,
            provider=provider,
            client_id=client_id,
            client_secret=client_secret,
            access_token=access_token,
            refresh_token=refresh_token,
            token_type=token_type,
            expires_at=expires_at,
            issued_at=issued_at,
            scope=scope,
            user_id=user_id,
            screen_name=screen_name,
            created_at=created_at,
            endpoints=endpoints,
            needs_login=needs_login,
            origin=origin,
            refreshing=refreshing,
            id_token=id_token,
        )

    @property
    def username(self) -> str | None:
        """OAuth 2.0 providers say username where Twitter's OAuth 1.0a said screen_name: the same value."""
        return self.screen_name

    def due(self, now: float) -> bool:
        """Whether the access token has expired, or will within the refresh margin (see :attr:`due_at`)."""
        due_at = self.due_at
        return due_at is not None and now >= due_at

    @property
    def due_at(self) -> float | None:
        """When the access token falls due, so its next use refreshes it first (None: it does not expire): the
        refresh margin before its expiry, 60 s, but never more than half the token's lifetime (a token that lives
        60 s is refreshed after 30, not at once)."""
        if self.expires_at is None:
            return None
        lifetime = self.expires_at - self.issued_at if self.issued_at is not None else 2 * REFRESH_MARGIN
        return self.expires_at - min(REFRESH_MARGIN, max(lifetime, 0) / 2)

    def to_dict(self) -> dict[str, Any]:
        """The profile file's JSON object (refresh token and client secret included: it is the store)."""
        data: dict[str, Any] = {
            "protocol": "oauth2",
            "profile": self.profile,
            "provider": self.provider,
            "client_id": self.client_id,
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires_at": self.expires_at,
            "issued_at": self.issued_at,
            "scope": self.scope,
            "user_id": self.user_id,
            "screen_name": self.screen_name,
            "created_at": self.created_at,
            "endpoints": self.endpoints.to_dict(),
        }
        if self.client_secret is not None:
            data["client_secret"] = self.client_secret
        if self.refresh_token is not None:
            data["refresh_token"] = self.refresh_token
        if self.needs_login:
            data["needs_login"] = True
        if self.origin:
            data["origin"] = self.origin
        if self.refreshing:
            data["refreshing"] = True
        if self.id_token is not None:
            data["id_token"] = self.id_token
        return data

    def token_dict(self) -> dict[str, Any]:
        """What ``loopauth token`` prints: the access token and who it is for, never the refresh token; the ID
        token too when the login has one (it is meant for the client, and tools such as kubectl take it)."""
        data = {
            "profile": self.profile,
            "provider": self.provider,
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires_at": self.expires_at,
            "scope": self.scope,
            "client_id": self.client_id,
            "user_id": self.user_id,
            "username": self.screen_name,
            "screen_name": self.screen_name,
        }
        if self.id_token is not None:
            data["id_token"] = self.id_token
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OAuth2Credentials:
        """Build from a parsed profile file; raises KeyError/TypeError/ValueError if malformed."""
        for key in ("profile", "provider", "client_id", "access_token"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise ValueError(f"missing or invalid field {key!r}")
        endpoints = data.get("endpoints")
        if not isinstance(endpoints, Mapping) or not endpoints.get("token_url"):
            # A provider given by its issuer alone has no token URL until discovery; a stored login always has one.
            raise ValueError("missing or invalid field 'endpoints'")
        return cls(
            profile=data["profile"],
            provider=data["provider"],
            client_id=data["client_id"],
            client_secret=_opt_str(data.get("client_secret")),
            access_token=data["access_token"],
            refresh_token=_opt_str(data.get("refresh_token")),
            token_type=str(data.get("token_type") or "bearer"),
            expires_at=_opt_int(data.get("expires_at")),
            issued_at=_opt_int(data.get("issued_at")),
            scope=_opt_str(data.get("scope")),
            user_id=_opt_str(data.get("user_id")),
            screen_name=_opt_str(data.get("screen_name")),
            created_at=_opt_str(data.get("created_at")),
            endpoints=OAuth2Provider.from_dict(endpoints),
            needs_login=bool(data.get("needs_login")),
            origin=_opt_str(data.get("origin")),
            refreshing=data.get("refreshing") is True,
            id_token=_opt_str(data.get("id_token")),
        )

    def public_dict(self) -> dict[str, Any]:
        """What may be shown without being asked for secrets (``loopauth list``)."""
        return {
            "profile": self.profile,
            "provider": self.provider,
            "protocol": "oauth2",
            "user_id": self.user_id,
            "screen_name": self.screen_name,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "needs_login": self.needs_login,
            "origin": self.origin or "login",
        }


AnyCredentials = Credentials | OAuth2Credentials


def credentials_from_dict(data: Mapping[str, Any]) -> AnyCredentials:
    """A profile file's object, read by its ``protocol`` (OAuth 1.0a when there is none: older files)."""
    protocol = data.get("protocol", "oauth1")
    if protocol == "oauth2":
        return OAuth2Credentials.from_dict(data)
    if protocol != "oauth1":
        raise ValueError(f"unknown protocol {str(protocol)[:20]!r}")
    return Credentials.from_dict(data)


def _opt_int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("expected a number")
    return int(value)
