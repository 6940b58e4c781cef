"""Plain data: a provider's endpoints, a request token, stored credentials.

Everything here is immutable and free of I/O so it can be used (and tested)
without an event loop, a network or a disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SIGNATURE_METHODS = ("HMAC-SHA1", "HMAC-SHA256", "PLAINTEXT", "RSA-SHA1")


@dataclass(frozen=True)
class Provider:
    """An OAuth 1.0a provider: its three endpoints and optional extras."""

    name: str
    request_token_url: str
    authorize_url: str
    access_token_url: str
    verify_url: str | None = None
    revoke_url: str | None = None
    signature_method: str = "HMAC-SHA1"
    authorize_params: Mapping[str, str] = field(default_factory=dict, hash=False)

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


@dataclass(frozen=True)
class RequestToken:
    """The temporary credentials of RFC 5849 §2.1."""

    oauth_token: str
    oauth_token_secret: str = field(repr=False)


@dataclass(frozen=True)
class Credentials:
    """The token credentials of one login, as stored in a profile file.

    Secrets are left out of ``repr`` so a stray ``print(creds)`` or a log line
    never shows them.
    """

    profile: str
    provider: str
    consumer_key: str
    consumer_secret: str = field(repr=False)
    oauth_token: str = field(repr=False)
    oauth_token_secret: str = field(repr=False)
    user_id: str | None = None
    screen_name: str | None = None
    created_at: str | None = None
    endpoints: Provider | None = field(default=None, repr=False)
    rsa_key_file: str | None = None

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
        )

    def public_dict(self) -> dict[str, Any]:
        """What may be shown without being asked for secrets (``loopauth list``)."""
        return {
            "profile": self.profile,
            "provider": self.provider,
            "user_id": self.user_id,
            "screen_name": self.screen_name,
            "created_at": self.created_at,
        }


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
