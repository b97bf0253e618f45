"""Cull's worker processes: one per core, each with its own detector and eye model, built once.

Workers only read photos and return JSON-ready records; every write but thumbnails is the
parent's (`cull.run`).
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eyespy_live.config import Config
from eyespy_live.cull.analyze import Engine, analyze_file
from eyespy_live.cull.scan import Candidate
from eyespy_live.vision.faces import Face, FaceDetector

_ENGINE: Engine | None = None


class _ThoroughDetector(FaceDetector):
    """`--small-faces`: every grid of the detector's tiled still-photo search on every photo.

    By default a grid of tiles (for back-row faces in group shots: 4, ~15, ~70 more detector
    passes) runs only where the coarser search found no face or small ones; a group whose
    back row the coarser passes miss entirely needs this.
    """

    def __init__(self, inner: FaceDetector):
        self.inner = inner

    def detect(self, image) -> list[Face]:
        return self.inner.detect(image)

    def detect_photo(self, image, thorough: bool = False) -> list[Face]:
        return self.inner.detect_photo(image, thorough=True)


def build_engine(config: Config, root: Path, media_dir: Path, small_faces: bool) -> Engine:
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
    _ENGINE = build_engine(config, root, media_dir, small_faces)


def _work(item: tuple[str, int, int]) -> dict[str, Any]:
    assert _ENGINE is not None
    return analyze_file(_ENGINE, *item)


def results(
    todo: list[Candidate], config: Config, root: Path, media_dir: Path, small_faces: bool, jobs: int
) -> Iterator[dict[str, Any]]:
    """One record per photo, in the order they finish, from `jobs` worker processes."""
    items = [(c.relpath, c.size, c.mtime_ns) for c in todo]
    if jobs <= 1 or len(items) <= 1:
        _init_engine_here(config, root, media_dir, small_faces)
        for item in items:
            yield _work(item)
        return
    pool = _pool_context().Pool(
        jobs, _init_worker, (config, root, media_dir, small_faces), maxtasksperchild=None
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
        preload = ["eyespy_live.cull.workers", "eyespy_live.decision.configured"]
        context.set_forkserver_preload(preload)
        return context
    return multiprocessing.get_context("spawn")


def _init_engine_here(config: Config, root: Path, media_dir: Path, small_faces: bool) -> None:
    global _ENGINE
    _ENGINE = build_engine(config, root, media_dir, small_faces)
