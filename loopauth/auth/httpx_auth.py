"""loopauth as an ``httpx`` auth, for ``httpx.Client`` and ``httpx.AsyncClient`` alike.

Needs the ``httpx`` package (``pip install 'loopauth[httpx]'``); loopauth itself never imports it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator

import anyio.to_thread
import httpx

from ..models import AnyCredentials
from .signer import Authorized, ProfileSigner, form_params


class HttpxAuth(httpx.Auth):
    """Authorizes each request of an ``httpx`` client with a loopauth profile (``auth=`` of a client or a call).

    OAuth 1.0a: the request is signed as httpx will send it: its URL after httpx encoded it (put in
    loopauth's encoding when httpx leaves a character such as ``[`` or ``|`` raw, so the signature covers
    the bytes sent) and, for an ``application/x-www-form-urlencoded`` body, its form (RFC 5849 §3.4.1.3),
    with the profile's signature method. OAuth 2.0: the profile's bearer, refreshed under the profile's
    lock when it is due; a 401 gets one retry after a forced refresh, and a second 401 is returned as it
    is. Only the ``Authorization`` header (and, rarely, the URL's encoding) is changed.

    With an ``AsyncClient`` the profile is read, refreshed and signed in a worker thread (the refresh
    takes a file lock and makes a blocking HTTP call), so the event loop never waits on them.
    """

    # The body is read before the flow starts: the signature covers a form body, and a retry resends it.
    requires_request_body = True

    def __init__(self, profile: str | None = None) -> None:
        self.signer = ProfileSigner(profile)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        authorized = self._authorize(request, None)
        response = yield request
        if response.status_code == 401:
            fresh = self.signer.after_401(authorized.credentials)
            if fresh is not None:
                self._authorize(request, fresh)
                yield request  # the last yield: whatever this one gets back is the answer

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        await request.aread()
        # anyio rather than asyncio: httpx's AsyncClient runs under trio as well.
        authorized = await anyio.to_thread.run_sync(self._authorize, request, None)
        response = yield request
        if response.status_code == 401:
            fresh = await anyio.to_thread.run_sync(self.signer.after_401, authorized.credentials)
            if fresh is not None:
                self._authorize(request, fresh)  # a bearer: no I/O left to do
                yield request

    def _authorize(self, request: httpx.Request, credentials: AnyCredentials | None) -> Authorized:
        form = form_params(request.headers.get("Content-Type"), request.content)
        url = str(request.url)
        authorized = self.signer.authorize(request.method, url, form=form, credentials=credentials)
        if authorized.url != url:
            request.url = httpx.URL(authorized.url)
        request.headers["Authorization"] = authorized.authorization
        return authorized
