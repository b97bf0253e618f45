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

import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eyespy_live import __version__
from eyespy_live.config import Config
from eyespy_live.cull import report, workers
from eyespy_live.cull.lock import CullLock
from eyespy_live.cull.outputs import OutputError, Outputs, check_media, output_error, write_reports
from eyespy_live.cull.scan import Candidate, scan
from eyespy_live.cull.state import CullState
from eyespy_live.cull.verdict import UNREADABLE
from eyespy_live.resources import default_eye_model

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
    sidecars: int = 0  # XMP sidecars written (new or merged) this run
    interrupted: bool = False
    restarted_because: str | None = None

    @property
    def rate(self) -> float:
        return self.analysed / self.seconds if self.seconds > 0 else 0.0


def _file_id(path: Path) -> str:
    try:
        return hashlib.sha1(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return str(path)


def state_settings(config: Config, small_faces: bool) -> dict[str, Any]:
    """Everything a verdict depends on; a change means earlier verdicts are stale (an
    upgraded eyespy too: its judgement may have changed)."""
    from eyespy_live.decision.judge import default_fusion_path  # cv2 and the models: when used

    model = Path(config.vision.model) if config.vision.model else default_eye_model()
    b = config.blink
    return {
        "cull": CULL_VERSION,
        "eyespy": __version__,
        "geometry": config.vision.geometry,
        "fusion": _file_id(default_fusion_path()) if config.vision.geometry else None,
        "photo_wink": b.photo_wink,
        "detector": config.vision.detector,
        "variant": config.vision.detector_variant,
        "min_face_score": config.vision.min_face_score,
        "small_faces": small_faces,
        "model": _file_id(model),
        "t_closed": b.t_closed,
        "t_open": b.t_open,
        "t_half": b.t_half,
        "photo_t_closed": b.photo_t_closed,
        "photo_t_half": b.photo_t_half,
        "both_eyes": b.both_eyes,
    }


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
    per_photo = Outputs(options, candidates, summary.notes)
    records: dict[str, dict[str, Any]] = {}
    todo: list[Candidate] = []
    failure: OutputError | None = None
    analysis_started = time.monotonic()
    try:
        for c in candidates:
            if c.problem:
                records[c.relpath] = _problem_record(c)
                per_photo.apply(records[c.relpath])
            elif (earlier := state.done(c.key)) is not None:
                records[c.relpath] = earlier
                per_photo.apply(earlier)
                summary.resumed += 1
            else:
                todo.append(c)
        if options.limit is not None:
            todo = todo[: max(0, options.limit)]
        jobs = options.jobs or os.cpu_count() or 1
        progress = progress_factory(len(todo)) if progress_factory else None
        analysis_started = time.monotonic()
        root = options.session.resolve()
        results = workers.results(todo, config, root, media_dir, options.small_faces, jobs)
        for record in results:
            check_media(record, media_dir, summary.notes)
            try:
                state.add(record)
            except OSError as exc:
                raise output_error(exc, "the resume file", out) from None
            records[record["path"]] = record
            per_photo.apply(record)
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
        summary.sidecars = per_photo.sidecars
        summary.records = [records[c.relpath] for c in candidates if c.relpath in records]
        summary.total = len(candidates)
        summary.counts = report.counts(summary.records)
        try:
            write_reports(options, summary, media_dir, time.monotonic() - started)
        except OutputError as exc:
            failure = failure or exc
    if failure is not None:
        raise failure
    return summary
