"""The demo providers on their own event loop in a thread, and profiles logged in to them, for blocking clients.

requests, httpx's Client, tweepy and python-twitter-v2 block the calling thread, so the provider they call
cannot share its event loop. The profiles are made with the manual flows (``SyncFlow``, ``SyncFlow2``), with
the approval posted by hand: real logins against the real demo, without a browser.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qsl, urlsplit

import requests

import loopauth
from loopauth.models import Credentials, OAuth2Credentials
from loopauth.store import CredentialStore

from .demo_probes import DemoOAuth2Provider, DemoProvider


class _Served(Protocol):
    async def start(self) -> None: ...
    async def close(self) -> None: ...


P = TypeVar("P", bound=_Served)


@contextmanager
def in_a_thread(provider: P) -> Iterator[P]:
    """``provider`` served on a new event loop in a daemon thread, closed at the end."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(provider.start(), loop).result(10)
        try:
            yield provider
        finally:
            asyncio.run_coroutine_threadsafe(provider.close(), loop).result(10)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


RSA_CONSUMER_KEY = "rsa-consumer-key"


def rsa_key_pair(tmp_path: Path) -> tuple[Path, str]:
    """A fresh PEM private key file and its public key (for the demo to verify RSA-SHA1 with)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "consumer.pem"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return path, public.decode()


def log_in_oauth1(
    demo: DemoProvider, *, profile: str = "default", signature_method: str = "HMAC-SHA1", tmp_path: Path | None = None
) -> Credentials:
    """Log in to the OAuth 1.0a demo with ``signature_method`` and save the profile (RSA-SHA1 needs ``tmp_path``)."""
    key, secret, rsa_key_file = demo.consumer_key, demo.consumer_secret, None
    if signature_method == "RSA-SHA1":
        assert tmp_path is not None
        pem, public = rsa_key_pair(tmp_path)
        demo.register_client(RSA_CONSUMER_KEY, "unused-for-rsa", rsa_public_key=public)
        key, secret, rsa_key_file = RSA_CONSUMER_KEY, "", str(pem)
    flow = loopauth.SyncFlow(
        key,
        secret,
        provider=demo.provider,
        callback_uri="http://127.0.0.1:9/callback",
        signature_method=signature_method,
        rsa_key_file=rsa_key_file,
    )
    token = dict(parse_qsl(urlsplit(flow.get_authorize_url()).query))["oauth_token"]
    decision = requests.post(
        f"{demo.base_url}/oauth/authorize",
        data={"oauth_token": token, "action": "approve"},
        allow_redirects=False,
        timeout=10,
    )
    creds = flow.credentials(flow.generate_access_token(decision.headers["Location"]), profile=profile)
    assert creds.signature_method == signature_method
    CredentialStore().save(creds)
    return creds


def log_in_oauth2(demo2: DemoOAuth2Provider, *, profile: str = "default") -> OAuth2Credentials:
    """Log in to the OAuth 2.0 demo as its public client (refresh token included) and save the profile."""
    flow = loopauth.SyncFlow2(
        demo2.public_client_id, provider=demo2.provider, callback_uri="http://127.0.0.1:9/callback"
    )
    url = flow.get_authorize_url()
    with requests.Session() as session:
        page = session.get(url, timeout=10).text
        fields = re.findall(r'name="([^"]+)" value="([^"]*)"', page)
        decision = session.post(
            url.split("?")[0], data=[*fields, ("action", "approve")], allow_redirects=False, timeout=10
        )
    flow.generate_access_token(decision.headers["Location"])
    creds = flow.credentials(profile=profile)
    assert creds.refresh_token
    CredentialStore().save(creds)
    return creds


class Redirected(requests.Session):
    """A requests session that sends a library's calls for the real API to the demo provider instead.

    The URL is rewritten in ``request()``, before requests prepares the request and the library's own auth
    (requests-oauthlib for tweepy, Authlib for python-twitter-v2) signs it; so the demo verifies a signature
    the library made for the URL it really receives. ``routes`` maps URL prefixes to their replacements,
    the first match winning.
    """

    def __init__(self, routes: Mapping[str, str]) -> None:
        super().__init__()
        self.routes = dict(routes)
        self.sent: list[str] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        method = method.decode() if isinstance(method, bytes) else method
        url = url.decode() if isinstance(url, bytes) else url
        self.sent.append(url)
        for prefix, target in self.routes.items():
            if url.startswith(prefix):
                url = target + url[len(prefix) :]
                break
        return super().request(method, url, *args, **kwargs)
