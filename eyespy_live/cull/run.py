"""A whole cull: scan, analyse on every core, write the chosen outputs, resumably.

The parent process owns every write except thumbnails: the resume file, sidecars, sorted
folders and reports, applied as each result arrives, so an interrupted run leaves
consistent outputs for everything it finished. Workers (one per core, each with its own
detector and eye model, built once) only read photos and return JSON-ready records.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eyespy_live.config import Config
from eyespy_live.cull import folders, report, xmp
from eyespy_live.cull.analyze import Engine, analyze_file
from eyespy_live.cull.contact_sheet import write_contact_sheet
from eyespy_live.cull.scan import Candidate, scan
from eyespy_live.cull.state import CullState
from eyespy_live.cull.verdict import CHECK, CLOSED, KEEP, UNREADABLE
from eyespy_live.photos.raw import RAW_SUFFIXES
from eyespy_live.resources import default_eye_model
from eyespy_live.vision.faces import Face, FaceDetector

log = logging.getLogger(__name__)

CULL_VERSION = 2
DEFAULT_OUT_NAME = "eyespy-cull"
MEDIA_NAME = "media"


@dataclass
class CullOptions:
    session: Path
    out_dir: Path | None = None  # default: SESSION/eyespy-cull
    recursive: bool = False
    jobs: int = 0  # 0: one per core
    small_faces: bool = False  # also search tiles for small faces (slower)
    xmp: bool = False
    xmp_naming: str = "stem"
    xmp_overwrite: bool = False
    ratings: dict[str, int] | None = None  # verdict → xmp:Rating
    report: bool = False
    sort: str | None = None  # copy | hardlink | symlink
    sheet: bool = False
    limit: int | None = None  # analyse at most this many new photos, then stop
    fresh: bool = False  # ignore the resume file

    @property
    def out(self) -> Path:
        return self.out_dir or self.session / DEFAULT_OUT_NAME


@dataclass
class CullSummary:
    total: int = 0
    analysed: int = 0
    resumed: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # sidecars not written, etc.
    outputs: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False
    restarted_because: str | None = None

    @property
    def rate(self) -> float:
        return self.analysed / self.seconds if self.seconds > 0 else 0.0


def state_settings(config: Config, small_faces: bool) -> dict[str, Any]:
    """Everything a verdict depends on; a change means earlier verdicts are stale."""
    model = Path(config.vision.model) if config.vision.model else default_eye_model()
    try:
        model_id = hashlib.sha1(model.read_bytes()).hexdigest()[:16]
    except OSError:
        model_id = str(model)
    b = config.blink
    return {
        "cull": CULL_VERSION,
        "detector": config.vision.detector,
        "variant": config.vision.detector_variant,
        "min_face_score": config.vision.min_face_score,
        "small_faces": small_faces,
        "model": model_id,
        "t_closed": b.t_closed,
        "t_open": b.t_open,
        "t_half": b.t_half,
        "photo_t_closed": b.photo_t_closed,
        "photo_t_half": b.photo_t_half,
        "both_eyes": b.both_eyes,
    }


# -- workers -------------------------------------------------------------------------------

_ENGINE: Engine | None = None


class _ThoroughDetector(FaceDetector):
    """`--small-faces`: the detector's tiled still-photo search on every photo.

    By default the tiles (for back-row faces in group shots, four more detector passes) run
    only where the whole-photo pass finds no face or a small one; a group whose back row the
    first pass misses entirely needs this.
    """

    def __init__(self, inner: FaceDetector):
        self.inner = inner

    def detect(self, image) -> list[Face]:
        return self.inner.detect(image)

    def detect_photo(self, image, thorough: bool = False) -> list[Face]:
        return self.inner.detect_photo(image, thorough=True)


def _build_engine(config: Config, root: Path, media_dir: Path, small_faces: bool) -> Engine:
    from eyespy_live.decision.configured import blink_settings, build_detector, build_model

    detector = build_detector(config)
    if small_faces:
        detector = _ThoroughDetector(detector)
    return Engine(
        detector=detector,
        model=build_model(config),
        settings=blink_settings(config),
        min_face_score=config.vision.min_face_score,
        root=root,
        media_dir=media_dir,
    )


def _init_worker(config: Config, root: Path, media_dir: Path, small_faces: bool) -> None:
    global _ENGINE
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C for everyone
    import cv2

    cv2.setNumThreads(1)  # one process per core already
    _ENGINE = _build_engine(config, root, media_dir, small_faces)


def _work(item: tuple[str, int, int]) -> dict[str, Any]:
    assert _ENGINE is not None
    return analyze_file(_ENGINE, *item)


def _results(
    todo: list[Candidate], config: Config, options: CullOptions, media_dir: Path, jobs: int
) -> Iterator[dict[str, Any]]:
    items = [(c.relpath, c.size, c.mtime_ns) for c in todo]
    root = options.session.resolve()
    if jobs <= 1 or len(items) <= 1:
        _init_engine_here(config, root, media_dir, options.small_faces)
        for item in items:
            yield _work(item)
        return
    pool = _pool_context().Pool(
        jobs, _init_worker, (config, root, media_dir, options.small_faces), maxtasksperchild=None
    )
    try:
        yield from pool.imap_unordered(_work, items, chunksize=1)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def _pool_context() -> multiprocessing.context.BaseContext:
    """Workers forked from a clean, single-threaded server, never from this process.

    Forking a process that already runs an interpreter's thread pool (a test, or a caller
    that analysed a photo itself) can deadlock the child on a lock held at fork time; the
    fork server has imported the analysis code but started no threads, so workers start
    fast and safe. Where there is no fork server, spawn.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        preload = ["eyespy_live.cull.analyze", "eyespy_live.decision.configured"]
        context.set_forkserver_preload(preload)
        return context
    return multiprocessing.get_context("spawn")


def _init_engine_here(config: Config, root: Path, media_dir: Path, small_faces: bool) -> None:
    global _ENGINE
    _ENGINE = _build_engine(config, root, media_dir, small_faces)


# -- outputs -------------------------------------------------------------------------------


class Outputs:
    """Applies the chosen per-photo outputs (sidecar, sorted folder) to one record."""

    def __init__(self, options: CullOptions, candidates: list[Candidate], notes: list[str]):
        self.options = options
        self.notes = notes
        self.sidecar_owner = _sidecar_owners(candidates, options.xmp_naming)

    def apply(self, record: dict[str, Any]) -> None:
        photo = self.options.session / record["path"]
        if self.options.xmp and record["verdict"] != UNREADABLE:
            self._sidecar(photo, record)
        if self.options.sort:
            try:
                folders.place(
                    photo, record["path"], record["verdict"], self.options.out, self.options.sort
                )
            except OSError as exc:
                self.notes.append(f"{record['path']}: not sorted: {exc}")

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
        except (xmp.SidecarError, OSError, UnicodeDecodeError) as exc:
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


def _problem_record(c: Candidate) -> dict[str, Any]:
    return {
        "path": c.relpath,
        "size": c.size,
        "mtime_ns": c.mtime_ns,
        "verdict": UNREADABLE,
        "reason": c.problem,
        "faces": [],
        "attention": [],
    }


# -- the run -------------------------------------------------------------------------------

Progress = Callable[[int, int], None]  # (done, total) for the photos analysed this run


def run_cull(
    options: CullOptions,
    config: Config,
    progress_factory: Callable[[int], Progress] | None = None,
) -> CullSummary:
    session = options.session
    if not session.is_dir():
        raise FileNotFoundError(f"session folder not found: {session}")
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    media_dir = out / MEDIA_NAME
    media_dir.mkdir(exist_ok=True)
    started = time.monotonic()
    summary = CullSummary()
    candidates = scan(session, options.recursive, exclude=(out,))
    state = CullState(out, state_settings(config, options.small_faces))
    if not options.fresh:
        state.load()
    summary.restarted_because = state.restarted_because
    state.open()
    outputs = Outputs(options, candidates, summary.notes)
    records: dict[str, dict[str, Any]] = {}
    todo: list[Candidate] = []
    for c in candidates:
        if c.problem:
            records[c.relpath] = _problem_record(c)
            outputs.apply(records[c.relpath])
        elif (earlier := state.done(c.key)) is not None:
            records[c.relpath] = earlier
            outputs.apply(earlier)
            summary.resumed += 1
        else:
            todo.append(c)
    if options.limit is not None:
        todo = todo[: max(0, options.limit)]
    jobs = options.jobs or os.cpu_count() or 1
    progress = progress_factory(len(todo)) if progress_factory else None
    analysis_started = time.monotonic()
    try:
        for record in _results(todo, config, options, media_dir, jobs):
            state.add(record)
            records[record["path"]] = record
            outputs.apply(record)
            summary.analysed += 1
            if progress:
                progress(summary.analysed, len(todo))
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        state.close()
        summary.seconds = time.monotonic() - analysis_started
        summary.records = [records[c.relpath] for c in candidates if c.relpath in records]
        summary.total = len(candidates)
        summary.counts = report.counts(summary.records)
        _write_reports(options, summary, media_dir, time.monotonic() - started)
    return summary


def _write_reports(
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
        report.write_json(out / "report.json", summary.records, meta)
        report.write_csv(out / "report.csv", summary.records)
        summary.outputs["report"] = str(out / "report.json")
        summary.outputs["csv"] = str(out / "report.csv")
    if options.sheet:
        path = out / "contact_sheet.html"
        write_contact_sheet(path, summary.records, media_dir, f"Cull of {options.session.name}")
        summary.outputs["contact sheet"] = str(path)
    if options.sort:
        summary.outputs["folders"] = ", ".join(str(out / v) for v in (KEEP, CLOSED, CHECK))
