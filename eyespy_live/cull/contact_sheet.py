"""An HTML contact sheet of the cull: one file, offline, grouped by verdict.

Eyes closed first (those are what a photographer checks), then "check", then the unreadable
files with their reasons, then the keepers. The faces to look at are shown enlarged next to
each thumbnail. Every image is embedded as a data: URI, so the single file can be mailed or
moved and opens in any browser with no network and no folder beside it.
"""

from __future__ import annotations

import base64
import html
import time
from pathlib import Path
from typing import Any

from eyespy_live.cull.report import counts, ordered
from eyespy_live.cull.verdict import CHECK, CLOSED, KEEP, UNREADABLE
from eyespy_live.files import read_regular, write_atomic

MEDIA_LIMIT = 16 * 1024 * 1024  # a thumbnail is ~30 KB

TITLES = {
    CLOSED: "Eyes closed",
    CHECK: "Check by eye",
    UNREADABLE: "Unreadable files",
    KEEP: "Keep",
}
_ORDER = (CLOSED, CHECK, UNREADABLE, KEEP)

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;background:#1d1d1f;color:#eee}
h1{font-size:1.4em}h2{border-bottom:1px solid #555;padding-bottom:.2em;margin-top:2em}
.summary span{display:inline-block;margin-right:1.5em}
.grid{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#2b2b2e;border-radius:6px;padding:8px;width:380px}
.card.small{width:190px}.card.small img.thumb{max-width:180px;max-height:180px}
.card img.thumb{max-width:360px;max-height:360px;display:block}
.faces{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}
.faces figure{margin:0}.faces img{width:240px;border:3px solid #e0453a;border-radius:4px}
.check .faces img{border-color:#e6b422}
figcaption,.reason{font-size:.85em;color:#bbb}.name{font-weight:600;word-break:break-all}
ul.unreadable li{margin:.2em 0}
"""


def write_contact_sheet(
    path: Path, records: list[dict[str, Any]], media_dir: Path, title: str
) -> None:
    by_verdict: dict[str, list[dict[str, Any]]] = {v: [] for v in _ORDER}
    for record in ordered(records):
        by_verdict.setdefault(record["verdict"], []).append(record)
    total = counts(records)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p class='summary'>"
        + "".join(f"<span>{TITLES[v]}: <b>{total.get(v, 0)}</b></span>" for v in _ORDER)
        + f"<span>made {html.escape(time.strftime('%Y-%m-%d %H:%M'))}</span></p>",
    ]
    for verdict in _ORDER:
        items = by_verdict.get(verdict) or []
        if not items:
            continue
        parts.append(f"<h2 id='{verdict}'>{TITLES[verdict]} ({len(items)})</h2>")
        if verdict == UNREADABLE:
            parts.append("<ul class='unreadable'>")
            parts += [
                f"<li><span class='name'>{html.escape(r['path'])}</span>: "
                f"{html.escape(r['reason'])}</li>"
                for r in items
            ]
            parts.append("</ul>")
            continue
        parts.append(f"<div class='grid {verdict}'>")
        parts += [_card(r, media_dir, small=verdict == KEEP) for r in items]
        parts.append("</div>")
    parts.append("</body></html>\n")
    write_atomic(path, "\n".join(parts))


def _card(record: dict[str, Any], media_dir: Path, small: bool) -> str:
    name = html.escape(record["path"])
    thumb = _data_uri(media_dir, record.get("thumb"))
    image = f"<img class='thumb' alt='{name}' src='{thumb}'>" if thumb else ""
    faces = []
    by_id = {str(f["id"]): f for f in record.get("faces") or []}
    for face_id, crop in sorted((record.get("crops") or {}).items()):
        uri = _data_uri(media_dir, crop)
        if not uri:
            continue
        caption = f"face {face_id}: {_face_caption(by_id.get(face_id))}"
        faces.append(
            f"<figure><img alt='face {face_id}' src='{uri}'>"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    crops = f"<div class='faces'>{''.join(faces)}</div>" if faces else ""
    css = "card small" if small else "card"
    return (
        f"<div class='{css}'>{image}<div class='name'>{name}</div>"
        f"<div class='reason'>{html.escape(record['reason'])}</div>{crops}</div>"
    )


def _face_caption(face: dict[str, Any] | None) -> str:
    if not face:
        return ""
    if face.get("p_closed"):
        left, right = face["p_closed"]
        return f"{face['state']}, P(closed) {left:.2f} / {right:.2f}"
    return face.get("reason") or face.get("state", "")


def _data_uri(media_dir: Path, name: str | None) -> str | None:
    if not name:
        return None
    try:
        data = read_regular(media_dir / name, MEDIA_LIMIT, follow_links=False)
    except OSError:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
