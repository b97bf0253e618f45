"""What a cull writes besides its resume file: sidecars, sorted folders, reports, the sheet.

All in the parent process, as each record arrives. An output that cannot be written is never
a verdict on a photo: a full disk or read-only folder raises `OutputError` (naming the folder
and the file) and stops the run; a problem with one photo's output is a note in the summary.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eyespy_live.cull import folders, report, xmp
from eyespy_live.cull.contact_sheet import write_contact_sheet
from eyespy_live.cull.scan import Candidate
from eyespy_live.cull.verdict import CHECK, CLOSED, KEEP, UNREADABLE
from eyespy_live.photos.raw import RAW_SUFFIXES

if TYPE_CHECKING:
    from eyespy_live.cull.run import CullOptions, CullSummary

# Errors that mean "the output side is broken", for every file: stop instead of noting each.
FATAL_OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})


class OutputError(Exception):
    """An output could not be written; the message names the folder and the file."""


def output_error(exc: OSError, what: str, where: Path) -> OutputError:
    reason = exc.strerror or str(exc)
    return OutputError(f"{where}: cannot write {what}: {reason}")




class Outputs:
    """Applies the chosen per-photo outputs (sidecar, sorted folder) to one record."""

    def __init__(self, options: CullOptions, candidates: list[Candidate], notes: list[str]):
        self.options = options
        self.notes = notes
        self.sidecar_owner = _sidecar_owners(candidates, options.xmp_naming)
        self._said_copied = False
        self.sidecars = 0

    def apply(self, record: dict[str, Any]) -> None:
        photo = self.options.session / record["path"]
        if self.options.xmp and record["verdict"] != UNREADABLE:
            self._sidecar(photo, record)
        if self.options.sort:
            try:
                done = folders.place(
                    photo, record["path"], record["verdict"], self.options.out, self.options.sort
                )
            except OSError as exc:
                if exc.errno in FATAL_OUTPUT_ERRNOS:
                    what = f"the sorted copy of {record['path']}"
                    raise output_error(exc, what, self.options.out) from None
                self.notes.append(f"{record['path']}: not sorted: {exc}")
                return
            if done.startswith("copied (") and not self._said_copied:
                self._said_copied = True
                self.notes.append(f"--sort {self.options.sort}: photos were {done}")

    def _sidecar(self, photo: Path, record: dict[str, Any]) -> None:
        sidecar = xmp.sidecar_path(photo, self.options.xmp_naming)
        owner = self.sidecar_owner.get(sidecar)
        if owner is not None and owner != record["path"]:
            return  # RAW+JPEG pair: the sidecar belongs to the RAW
        ratings = self.options.ratings or {}
        values = xmp.SidecarValues(
            verdict=record["verdict"],
            reason=record["reason"],
            label=xmp.LABELS.get(record["verdict"]),
            rating=ratings.get(record["verdict"]),
        )
        try:
            xmp.write_sidecar(sidecar, values, overwrite=self.options.xmp_overwrite)
            self.sidecars += 1
        except OSError as exc:
            if exc.errno in FATAL_OUTPUT_ERRNOS:
                raise output_error(exc, f"the sidecar {sidecar.name}", sidecar.parent) from None
            self.notes.append(f"{record['path']}: sidecar not written: {exc.strerror or exc}")
        except (xmp.SidecarError, UnicodeDecodeError) as exc:
            self.notes.append(f"{record['path']}: sidecar not written: {exc}")


def _sidecar_owners(candidates: list[Candidate], naming: str) -> dict[Path, str]:
    """Which photo each sidecar belongs to when two photos share one (IMG_1.NEF + .JPG)."""
    owners: dict[Path, str] = {}
    for c in candidates:
        sidecar = xmp.sidecar_path(c.path, naming)
        current = owners.get(sidecar)
        if current is None or (
            Path(c.relpath).suffix.lower() in RAW_SUFFIXES
            and Path(current).suffix.lower() not in RAW_SUFFIXES
        ):
            owners[sidecar] = c.relpath
    return owners


def check_media(record: dict[str, Any], media_dir: Path, notes: list[str]) -> None:
    """A thumbnail that could not be written: stop on a full disk (the photo is done again
    next run), else note it and keep the verdict without a picture."""
    problem = record.pop("media_error", None)
    if problem is None:
        return
    code, reason = problem
    if code in FATAL_OUTPUT_ERRNOS:
        raise OutputError(f"{media_dir}: cannot write the thumbnails of {record['path']}: {reason}")
    notes.append(f"{record['path']}: no thumbnail: {reason}")


def write_reports(
    options: CullOptions, summary: CullSummary, media_dir: Path, wall_s: float
) -> None:
    out = options.out
    if options.report:
        meta = {
            "session": str(options.session.resolve()),
            "photos": summary.total,
            "finished": len(summary.records),
            "analysed_this_run": summary.analysed,
            "resumed": summary.resumed,
            "seconds": round(wall_s, 2),
            "complete": not summary.interrupted and len(summary.records) == summary.total,
            "notes": summary.notes,
        }
        _written("report.json", out, report.write_json, out / "report.json", summary.records, meta)
        _written("report.csv", out, report.write_csv, out / "report.csv", summary.records)
        summary.outputs["report"] = str(out / "report.json")
        summary.outputs["csv"] = str(out / "report.csv")
    if options.sheet:
        path = out / "contact_sheet.html"
        title = f"Cull of {options.session.name}"
        _written(
            path.name, out, write_contact_sheet, path, summary.records, media_dir, title,
            options.session,
        )  # fmt: skip
        summary.outputs["contact sheet"] = str(path)
    if options.sort:
        summary.outputs["folders"] = ", ".join(str(out / v) for v in (KEEP, CLOSED, CHECK))


def _written(what: str, where: Path, write: Callable[..., None], *args: Any) -> None:
    try:
        write(*args)
    except OSError as exc:
        raise output_error(exc, what, where) from None
