"""The cull report: every photo's verdict and reason, as JSON (complete) and CSV (a row each).

The JSON holds everything (per-face probabilities, boxes, sharpness) for scripts; the CSV is
for a spreadsheet: one row per photo, sorted by verdict then path, unreadable files included
with their reason, so nothing in the session goes unaccounted for.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

from eyespy_live.cull.verdict import VERDICTS
from eyespy_live.files import write_atomic

CSV_FIELDS = (
    "path",
    "verdict",
    "reason",
    "faces",
    "faces_to_check",
    "max_p_closed",
    "min_sharpness",
    "width",
    "height",
    "origin",
)


def ordered(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rank = {v: i for i, v in enumerate(VERDICTS)}
    return sorted(records, key=lambda r: (rank.get(r["verdict"], 99), r["path"]))


def counts(records: list[dict[str, Any]]) -> dict[str, int]:
    found = Counter(r["verdict"] for r in records)
    return {v: found.get(v, 0) for v in VERDICTS}


def write_json(path: Path, records: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    document = {
        "summary": {**summary, "counts": counts(records)},
        "photos": [_public(r) for r in ordered(records)],
    }
    write_atomic(path, json.dumps(document, indent=1) + "\n")


def write_csv(path: Path, records: list[dict[str, Any]]) -> None:
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for record in ordered(records):
        writer.writerow(csv_row(record))
    write_atomic(path, text.getvalue())


def csv_row(record: dict[str, Any]) -> dict[str, Any]:
    faces = record.get("faces") or []
    probabilities = [max(f["p_closed"]) for f in faces if f.get("p_closed")]
    sharpness = [f["sharpness"] for f in faces if f.get("sharpness") is not None]
    return {
        "path": record["path"],
        "verdict": record["verdict"],
        "reason": record["reason"],
        "faces": len(faces),
        "faces_to_check": " ".join(str(i) for i in record.get("attention") or []),
        "max_p_closed": f"{max(probabilities):.3f}" if probabilities else "",
        "min_sharpness": f"{min(sharpness):.1f}" if sharpness else "",
        "width": record.get("width", ""),
        "height": record.get("height", ""),
        "origin": record.get("origin", ""),
    }


def _public(record: dict[str, Any]) -> dict[str, Any]:
    """The record without bookkeeping that only the resume file needs."""
    return {k: v for k, v in record.items() if k not in ("thumb", "crops")}
