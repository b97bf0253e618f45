"""An HTML contact sheet of the cull: one file, offline, grouped by verdict.

Eyes closed first (those are what a photographer checks), then "check", then the unreadable
files with their reasons, then the keepers. The faces to look at are shown enlarged next to
each thumbnail. Every image is embedded as a data: URI, so the single file can be mailed or
moved and opens in any browser with no network and no folder beside it.
"""

from __future__ import annotations

import base64
import html
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

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
.grid{display:flex;flex-wrap:wrap;gap:8px}
.card{background:#2b2b2e;border-radius:6px;padding:6px;width:250px}
.card.small{width:160px}.card.small img.thumb{max-width:150px;max-height:150px}
.card img.thumb{max-width:240px;max-height:200px;display:block}
.photo{position:relative;display:inline-block;line-height:0}
.box{position:absolute;border:2px solid #5ac85a;box-sizing:border-box}
.box b{position:absolute;left:0;top:-1.3em;font-size:11px;line-height:1.2;padding:0 3px;
background:#000a;color:#fff;white-space:nowrap}
.box.half{border-color:#ffb400}.box.closed{border-color:#ff3c3c}.box.unknown{border-color:#999}
.faces{display:flex;flex-wrap:wrap;gap:4px;margin-top:4px}
.faces figure{margin:0;width:118px}
.faces img{width:110px;border:3px solid #e0453a;border-radius:4px}
.check .faces img{border-color:#e6b422}
figcaption,.reason{font-size:.8em;color:#bbb}.name{font-weight:600;word-break:break-all}
ul.unreadable li{margin:.2em 0}
"""


def write_contact_sheet(
    path: Path,
    records: list[dict[str, Any]],
    media_dir: Path,
    title: str,
    originals: Path | None = None,
) -> None:
    """Write the sheet; with `originals` (the session folder) each photo links to its file."""
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
        parts += [_card(r, media_dir, verdict == KEEP, _link(path, originals, r)) for r in items]
        parts.append("</div>")
    parts.append("</body></html>\n")
    write_atomic(path, "\n".join(parts))


def _link(sheet: Path, originals: Path | None, record: dict[str, Any]) -> str | None:
    """A relative link from the sheet to the original photo (the sheet may be moved with
    its session folder)."""
    if originals is None:
        return None
    target = os.path.relpath(originals / record["path"], sheet.parent)
    return quote(Path(target).as_posix())


def _marks(record: dict[str, Any]) -> str:
    """Each face's box drawn on the thumbnail with its number and state (CSS percentages of
    the photo's size, so the mark fits whatever size the thumbnail is shown at)."""
    width, height = record.get("width") or 0, record.get("height") or 0
    if not width or not height:
        return ""
    marks = []
    for face in record.get("faces") or []:
        x, y, w, h = face["box"]
        state = face.get("state") or "unknown"
        style = (
            f"left:{100 * x / width:.1f}%;top:{100 * y / height:.1f}%;"
            f"width:{100 * w / width:.1f}%;height:{100 * h / height:.1f}%"
        )
        # a small face gets its number only, so neighbours' labels do not cover each other
        label = html.escape(f"{face['id']} {state}" if w / width >= 0.12 else str(face["id"]))
        css = html.escape(state)
        marks.append(f"<span class='box {css}' style='{style}'><b>{label}</b></span>")
    return "".join(marks)


def _card(record: dict[str, Any], media_dir: Path, small: bool, link: str | None = None) -> str:
    name = html.escape(record["path"])
    thumb = _data_uri(media_dir, record.get("thumb"))
    image = ""
    if thumb:
        picture = f"<img class='thumb' alt='{name}' src='{thumb}'>{_marks(record)}"
        image = (
            f"<a class='photo' href='{html.escape(link)}' title='open the original'>{picture}</a>"
            if link
            else f"<span class='photo'>{picture}</span>"
        )
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
        return f"{face['state']} {left:.2f}/{right:.2f}"
    return face.get("reason") or face.get("state", "")


def _data_uri(media_dir: Path, name: str | None) -> str | None:
    if not name:
        return None
    try:
        data = read_regular(media_dir / name, MEDIA_LIMIT, follow_links=False)
    except OSError:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
