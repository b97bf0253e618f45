"""A whole cull: scan, analyse on every core, write the chosen outputs, resumably.

The parent process owns every write except thumbnails: the resume file, sidecars, sorted
folders and reports, applied as each result arrives, so an interrupted run leaves
consistent outputs for everything it finished. Workers (one per core, each with its own
detector and eye model, built once) only read photos and return JSON-ready records.

An output that cannot be written (a full disk, a read-only folder) is never a verdict on a
photo: the run stops with an `OutputError` naming the folder and what could not be written,
the photo whose outputs failed is not recorded as finished (the next run does it again,
once), and the report, if it can still be written, says `complete: false`. One cull at a
time works on an output folder (`lock.CullLock`).
"""

from __future__ import annotations

import errno
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
from eyespy_live.cull.lock import CullLock
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
# Errors that mean "the output side is broken", for every file: stop instead of noting each.
FATAL_OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})


class OutputError(Exception):
    """An output could not be written; the message names the folder and the file."""


def output_error(exc: OSError, what: str, where: Path) -> OutputError:
    reason = exc.strerror or str(exc)
    return OutputError(f"{where}: cannot write {what}: {reason}")


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
    sidecars: int = 0  # XMP sidecars written (new or merged) this run
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
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / MEDIA_NAME).mkdir(exist_ok=True)
    except OSError as exc:
        hint = "" if options.out_dir else "; give another output folder with --out DIR"
        reason = exc.strerror or str(exc)
        raise OutputError(f"{out}: cannot create the output folder: {reason}{hint}") from None
    lock = CullLock(out)
    try:
        lock.acquire()
    except OSError as exc:
        hint = "" if options.out_dir else "; give another output folder with --out DIR"
        raise OutputError(
            f"{out}: cannot write the lock file: {exc.strerror or exc}{hint}"
        ) from None
    try:
        _check_model(config)
        return _run_locked(options, config, progress_factory)
    finally:
        lock.release()


def _check_model(config: Config) -> None:
    """A model file that is not a model fails here, once, not in every worker's start-up
    (a worker whose initializer fails is replaced by the pool, forever)."""
    from eyespy_live.vision.tflite import load_interpreter

    load_interpreter(config.vision.model or default_eye_model())


def _run_locked(
    options: CullOptions, config: Config, progress_factory: Callable[[int], Progress] | None
) -> CullSummary:
    session, out = options.session, options.out
    media_dir = out / MEDIA_NAME
    started = time.monotonic()
    summary = CullSummary()
    candidates = scan(session, options.recursive, exclude=(out,))
    state = CullState(out, state_settings(config, options.small_faces))
    if not options.fresh:
        state.load()
    summary.restarted_because = state.restarted_because
    try:
        state.open()
    except OSError as exc:
        raise output_error(exc, "the resume file", out) from None
    outputs = Outputs(options, candidates, summary.notes)
    records: dict[str, dict[str, Any]] = {}
    todo: list[Candidate] = []
    failure: OutputError | None = None
    analysis_started = time.monotonic()
    try:
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
        for record in _results(todo, config, options, media_dir, jobs):
            _check_media(record, media_dir, summary.notes)
            try:
                state.add(record)
            except OSError as exc:
                raise output_error(exc, "the resume file", out) from None
            records[record["path"]] = record
            outputs.apply(record)
            summary.analysed += 1
            if progress:
                progress(summary.analysed, len(todo))
    except KeyboardInterrupt:
        summary.interrupted = True
    except OutputError as exc:
        failure = exc
        summary.interrupted = True
    finally:
        try:
            state.close()
        except OSError as exc:
            failure = failure or output_error(exc, "the resume file", out)
        summary.seconds = time.monotonic() - analysis_started
        summary.sidecars = outputs.sidecars
        summary.records = [records[c.relpath] for c in candidates if c.relpath in records]
        summary.total = len(candidates)
        summary.counts = report.counts(summary.records)
        try:
            _write_reports(options, summary, media_dir, time.monotonic() - started)
        except OutputError as exc:
            failure = failure or exc
    if failure is not None:
        raise failure
    return summary


def _check_media(record: dict[str, Any], media_dir: Path, notes: list[str]) -> None:
    """A thumbnail that could not be written: stop on a full disk (the photo is done again
    next run), else note it and keep the verdict without a picture."""
    problem = record.pop("media_error", None)
    if problem is None:
        return
    code, reason = problem
    if code in FATAL_OUTPUT_ERRNOS:
        raise OutputError(f"{media_dir}: cannot write the thumbnails of {record['path']}: {reason}")
    notes.append(f"{record['path']}: no thumbnail: {reason}")


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
