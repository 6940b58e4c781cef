"""loopauth as a ``requests`` auth: ``requests.get(url, auth=loopauth.auth.requests())``.

Needs the ``requests`` package (``pip install 'loopauth[requests]'``); loopauth itself never imports it.
"""

from __future__ import annotations

import functools
from typing import Any

from requests import PreparedRequest, Response
from requests.auth import AuthBase
from requests.cookies import extract_cookies_to_jar

from ..models import AnyCredentials
from ..protocols import access_for
from .signer import Authorized, ProfileSigner, form_params


class RequestsAuth(AuthBase):
    """Authorizes each request of a ``requests`` session or call with a loopauth profile.

    OAuth 1.0a: the request is signed as requests will send it, its URL (query included) after requests
    encoded it and, for an ``application/x-www-form-urlencoded`` body, its form (RFC 5849 §3.4.1.3), with
    the profile's signature method. OAuth 2.0: the profile's bearer, refreshed under the profile's lock
    when it is due; a 401 gets one retry after a forced refresh, and a second 401 is returned as it is.
    Only the ``Authorization`` header is set.
    """

    def __init__(self, profile: str | None = None) -> None:
        self.signer = ProfileSigner(profile)

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        # requests calls this after it has encoded the URL and the body: they are final here.
        authorized = self._authorize(r, None)
        if access_for(authorized.credentials).retry_after(401):
            r.register_hook("response", functools.partial(self._retry_after_401, authorized))
        return r

    def _authorize(self, r: PreparedRequest, credentials: AnyCredentials | None) -> Authorized:
        form = form_params(r.headers.get("Content-Type"), r.body)
        authorized = self.signer.authorize(r.method or "GET", r.url or "", form=form, credentials=credentials)
        r.url = authorized.url
        r.headers["Authorization"] = authorized.authorization
        return authorized

    def _retry_after_401(self, sent: Authorized, response: Response, **send_kwargs: Any) -> Response:
        """The response hook: one retry with a fresh token after a 401, sent past the hooks, so never a second."""
        request = response.request
        if response.status_code != 401 or request.headers.get("Authorization") != sent.authorization:
            # Not ours to retry: another status, or a redirect that went elsewhere without our token.
            return response
        if request.body is not None and not isinstance(request.body, str | bytes):
            return response  # a streamed body was consumed by the first try
        fresh = self.signer.after_401(sent.credentials)
        retry = request.copy()
        self._authorize(retry, fresh)
        # As requests' own HTTPDigestAuth does: read the 401 so its connection is reused, keep its cookies.
        _ = response.content
        response.close()
        if retry._cookies is not None:
            extract_cookies_to_jar(retry._cookies, request, response.raw)
            retry.prepare_cookies(retry._cookies)
        again: Response = response.connection.send(retry, **send_kwargs)
        again.history.append(response)
        again.request = retry
        return again
