"""The HTML pages loopauth shows in the browser: one self-contained template.

No external assets and no script; the only style is one inline block allowed
by its hash in the Content-Security-Policy, so the CSP can stay
``default-src 'none'``. Every value put on a page is escaped here.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from typing import Literal

from ..text import clean

Kind = Literal["success", "denied", "error", "info"]

_CSS = """
:root{color-scheme:light dark;--bg:#f6f8fa;--card:#fff;--fg:#1f2328;--muted:#59636e;--border:#d1d9e0;
--ok:#1a7f37;--bad:#cf222e;--info:#0969da;--btn:#0969da;--btnfg:#fff;--next:#ddf4ff}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--card:#161b22;--fg:#e6edf3;--muted:#9da7b3;
--border:#3d444d;--ok:#3fb950;--bad:#ff7b72;--info:#58a6ff;--btn:#58a6ff;--btnfg:#0d1117;--next:#0c2d6b}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:var(--bg);
color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
.card{background:var(--card);border:1px solid var(--border);border-radius:12px;padding:2rem 2.25rem 1.25rem;
max-width:34rem;width:calc(100% - 2rem);margin:1rem 0;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.badge{display:inline-flex;align-items:center;justify-content:center;width:2.75rem;height:2.75rem;
border-radius:50%;font-size:1.5rem;font-weight:700;color:var(--card);margin-bottom:.75rem}
.success .badge{background:var(--ok)}.denied .badge,.error .badge{background:var(--bad)}
.info .badge{background:var(--info)}
h1{font-size:1.4rem;line-height:1.3;margin:0 0 .5rem}
p{margin:.5rem 0}ul{margin:.25rem 0 .5rem;padding-left:1.25rem}.muted{color:var(--muted);font-size:.9rem}
.next{margin-top:1rem;padding:.6rem .8rem;border-left:4px solid var(--info);border-radius:4px;
background:var(--next);font-weight:600}
code{font:.9em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.detail{background:var(--bg);border:1px solid var(--border);border-radius:8px;padding:.6rem .8rem;
font:.85rem/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;overflow-wrap:anywhere}
form{display:flex;gap:.75rem;margin-top:1.25rem;flex-wrap:wrap}
button{font:inherit;font-weight:600;padding:.55rem 1.2rem;border-radius:8px;border:1px solid var(--border);
background:var(--card);color:var(--fg);cursor:pointer}
button.primary{background:var(--btn);border-color:var(--btn);color:var(--btnfg)}
button:focus-visible{outline:3px solid var(--info);outline-offset:2px}
footer{margin-top:1.5rem;padding-top:.75rem;border-top:1px solid var(--border);color:var(--muted);font-size:.85rem}
"""

_STYLE_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()

CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self' http: https:; "
    "base-uri 'none'; frame-ancestors 'none'"
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
}

_BADGES: dict[Kind, str] = {"success": "✓", "denied": "✕", "error": "!", "info": "i"}


def render(
    kind: Kind,
    title: str,
    message: str,
    *,
    detail: str | None = None,
    next_step: str | None = None,
    body_html: str = "",
    footer: str = "loopauth",
) -> str:
    """Render a page. ``title``, ``message``, ``detail`` and ``next_step`` are cleaned of control characters and
    escaped; ``body_html`` is trusted markup built by the caller (the demo's form)."""
    title, message = clean(title), clean(message)
    detail = clean(detail) if detail else detail
    next_step = clean(next_step) if next_step else next_step
    parts = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        # Before the style applies, so a dark-mode browser never flashes a white page.
        '<meta name="color-scheme" content="light dark">',
        f"<title>{escape(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        f'<body class="{kind}">',
        # The card holds <main> and a <footer> beside it, so the footer is the page's contentinfo landmark.
        '<div class="card">',
        "<main>",
        f'<div class="badge" aria-hidden="true">{_BADGES[kind]}</div>',
        f"<h1>{escape(title)}</h1>",
        f"<p>{escape(message)}</p>",
    ]
    if detail:
        parts.append(f'<div class="detail" role="status">{escape(detail)}</div>')
    if next_step:
        parts.append(f'<p class="next">{escape(next_step)}</p>')
    if body_html:
        parts.append(body_html)
    parts += ["</main>", f"<footer>{escape(footer)}</footer>", "</div>", "</body>", "</html>", ""]
    return "\n".join(parts)
