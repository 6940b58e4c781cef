"""The demo provider's own pages: its authorize form, its PIN and its errors.

The demo stands for a provider's website, so it has a look of its own and shares nothing with the
pages of loopauth's callback server. Self-contained like those: one inline style allowed by its
hash, no script, everything escaped, AA contrast in light and dark.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from typing import Literal

Kind = Literal["info", "success", "denied", "error"]

_CSS = """
:root{color-scheme:light dark;--bg:#eef1f5;--card:#fff;--fg:#14171a;--muted:#536471;--line:#cfd9de;
--accent:#1d4ed8;--accentfg:#fff;--bad:#b91c1c}
@media (prefers-color-scheme:dark){:root{--bg:#000;--card:#16181c;--fg:#e7e9ea;--muted:#a0aab4;--line:#3a3f44;
--accent:#93b4ff;--accentfg:#000;--bad:#ff8a80}}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,sans-serif}
header{background:var(--card);border-bottom:1px solid var(--line);padding:.6rem 1.5rem;font-weight:700}
main{max-width:32rem;margin:2rem auto;padding:1.5rem 1.75rem;background:var(--card);border:1px solid var(--line);
border-radius:16px}
h1{font-size:1.3rem;margin:0 0 .5rem}.error h1,.denied h1{color:var(--bad)}
.muted{color:var(--muted);font-size:.9rem}
.code{font:1.6rem ui-monospace,monospace;letter-spacing:.2em;padding:.5rem 1rem;border:1px dashed var(--line);
display:inline-block}
form{display:flex;gap:.75rem;margin-top:1.25rem;flex-wrap:wrap}
button{font:inherit;font-weight:700;padding:.5rem 1.3rem;border-radius:999px;border:1px solid var(--line);
background:var(--card);color:var(--fg);cursor:pointer}
button.primary{background:var(--accent);border-color:var(--accent);color:var(--accentfg)}
button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
footer{max-width:32rem;margin:0 auto 2rem;color:var(--muted);font-size:.85rem;text-align:center}
"""

_STYLE_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()

SECURITY_HEADERS: dict[str, str] = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self' http: https:; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
}

FOOTER = "loopauth demo provider: it runs on your machine, and no real account is involved."


def render(
    kind: Kind,
    title: str,
    message: str,
    *,
    detail: str | None = None,
    next_step: str | None = None,
    body_html: str = "",
) -> str:
    """A demo page. ``title``, ``message``, ``detail`` (shown as a code, the PIN) and ``next_step`` are
    escaped; ``body_html`` is trusted markup built by the demo itself (its form)."""
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        '<meta name="referrer" content="no-referrer"><meta name="color-scheme" content="light dark">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>",
        f'<body class="{kind}"><header>Demo provider</header><main>',
        f"<h1>{escape(title)}</h1><p>{escape(message)}</p>",
    ]
    if detail:
        parts.append(f'<p class="code" role="status">{escape(detail)}</p>')
    if next_step:
        parts.append(f"<p>{escape(next_step)}</p>")
    parts += [body_html, f"</main><footer>{escape(FOOTER)}</footer></body></html>", ""]
    return "\n".join(parts)
