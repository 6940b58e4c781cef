"""The ``Authorization`` header for one aiohttp request: aiohttp's ``auth=`` takes only HTTP Basic.

aiohttp is a dependency of loopauth already; this module is imported only when it is used.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

from yarl import URL

from ..errors import UsageError
from ..protocols import access_for
from .signer import ProfileSigner

FormData = Mapping[str, str] | Iterable[tuple[str, str]]


async def aiohttp_headers(
    method: str,
    url: str | URL,
    data: FormData | None = None,
    *,
    profile: str | None = None,
    rejected: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The headers that authorize ``method url`` with a loopauth profile, to pass to aiohttp with the same
    ``url`` and ``data``::

        headers = await loopauth.auth.aiohttp_headers("POST", url, data=form)
        async with session.post(url, data=form, headers=headers) as response: ...

    OAuth 1.0a signs the URL as aiohttp will send it (so give the query in ``url``, not as ``params=``)
    and ``data``, a form that aiohttp sends as ``application/x-www-form-urlencoded`` (RFC 5849 §3.4.1.3);
    a JSON or other body is not signed. Each call makes a fresh signature: use it for one request.

    OAuth 2.0 gives the profile's bearer, refreshed under the profile's lock when it is due. After a
    401, call again with ``rejected=`` the headers that got it, once: the token is refreshed even though it
    is not due (unless another process has done so meanwhile), for one retry.

    The profile (the active one when None) is read, and refreshed, in a worker thread.
    """
    form = list(data.items() if isinstance(data, Mapping) else data or ())
    wire = str(url if isinstance(url, URL) else URL(url))  # what aiohttp puts on the request line
    return await asyncio.to_thread(_headers, method, wire, form, profile, rejected)


def _headers(
    method: str, wire: str, form: list[tuple[str, str]], profile: str | None, rejected: Mapping[str, str] | None
) -> dict[str, str]:
    signer = ProfileSigner(profile)
    current = signer.current()
    credentials = current
    if rejected is not None:
        sent = {k.lower(): v for k, v in rejected.items()}.get("authorization", "")
        refused = access_for(current).sent_with(sent)
        if refused is not None:
            credentials = signer.after_401(refused) or current
    authorized = signer.authorize(method, wire, form=form, credentials=credentials)
    if authorized.url != wire:
        # Only a URL built with yarl's encoded=True can get here: aiohttp would send it unlike it is signed.
        raise UsageError(
            "aiohttp would send this URL encoded differently from how loopauth signs it: pass it as a str, "
            "or as a yarl.URL built without encoded=True"
        )
    return {"Authorization": authorized.authorization}
