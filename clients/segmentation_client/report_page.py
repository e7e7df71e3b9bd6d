"""The page machinery of the HTML reports (`report --run`, `report --portfolio`).

Everything a page needs is inside it: the charts are PNG data URIs and the
CSS is inline. Its Content-Security-Policy allows nothing else (no scripts, no
fetches), so the page behaves the same opened from a mail, a share or a disk.
Every text from the service is HTML-escaped (`esc`).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from . import __version__
from .progress import Bar
from .render import format_share, format_value

CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

CSS = """
:root { --ink: #1f2933; --muted: #52606d; --line: #d5dbe3; --band: #f5f7fa;
        --accent: #3569a8; --loss: #d9480f; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 48px; }
header { border-bottom: 3px solid var(--accent); margin-bottom: 8px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 20px 0 6px; }
.meta, .note { color: var(--muted); font-size: 13px; }
.callout { border-left: 4px solid var(--loss); background: #fff4ee; padding: 8px 12px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left;
         vertical-align: top; }
thead th { background: var(--band); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.loss { color: var(--loss); font-weight: 600; }
table.facts th { font-weight: 600; background: none; white-space: nowrap; }
.scroll { overflow-x: auto; }
figure { margin: 12px 0 20px; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
details summary { cursor: pointer; color: var(--accent); }
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


@dataclass
class Page:
    """The HTML page under construction and the charts embedded so far."""

    parts: list[str] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)

    def add(self, *parts: str) -> None:
        self.parts.extend(parts)

    def chart(self, chart_id: str, png: bytes, alt: str, caption: str) -> None:
        data = base64.b64encode(png).decode("ascii")
        self.charts.append(chart_id)
        self.add(
            f'<figure><img src="data:image/png;base64,{data}" data-chart="{esc(chart_id)}" '
            f'alt="{esc(alt)}"><figcaption>{esc(caption)}</figcaption></figure>'
        )


def open_page(
    page: Page, title: str, generated_at: datetime | None = None, extra_css: str = ""
) -> None:
    """The head (policy, inline CSS) and the header of a report page; close it with
    `</main></body></html>`."""
    generated_at = generated_at or datetime.now(timezone.utc)
    page.add(
        "<!DOCTYPE html>\n",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{CSS}{extra_css}</style></head>",
        "<body><main><header>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="meta">Generated {esc(generated_at.isoformat(timespec="seconds"))} by '
        f"segmentation-client {esc(__version__)}</p></header>",
    )


def td(value: Any, field_name: str = "", *, numeric: bool = False, css: str = "") -> str:
    text = format_share(value) if field_name == "share" else format_value(value, field_name)
    classes = " ".join(name for name in ("num" if numeric else "", css) if name)
    return f'<td class="{classes}">{esc(text)}</td>' if classes else f"<td>{esc(text)}</td>"


def html_table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Iterable[str] = ()
) -> str:
    numeric_headers = set(numeric)
    head = "".join(
        f'<th class="num">{esc(h)}</th>' if h in numeric_headers else f"<th>{esc(h)}</th>"
        for h in headers
    )
    body = "".join(f"<tr>{''.join(row)}</tr>" for row in rows)
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="scroll">{table}</div>'


def facts(pairs: Iterable[tuple[str, str]]) -> str:
    rows = "".join(f"<tr><th>{esc(name)}</th><td>{esc(value)}</td></tr>" for name, value in pairs)
    return f'<table class="facts"><tbody>{rows}</tbody></table>'


def stepper(bar: Bar) -> Callable[[str], None]:
    """A `step(description)` for the renderers that advances `bar` once per chart."""

    def step(description: str) -> None:
        bar.advance(description=description)

    return step
