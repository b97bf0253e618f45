"""`eyespy cull SESSION_DIR`: sort a finished session into keep / eyes closed / check."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from eyespy_live.commands.common import add_config_options, load_config
from eyespy_live.config import ConfigError
from eyespy_live.cull.calibrate import collect_examples, config_snippet, fit_threshold
from eyespy_live.cull.folders import SORT_MODES
from eyespy_live.cull.lock import CullLocked
from eyespy_live.cull.run import (
    DEFAULT_OUT_NAME,
    CullOptions,
    CullSummary,
    OutputError,
    run_cull,
    state_settings,
)
from eyespy_live.cull.state import CullState
from eyespy_live.cull.verdict import CHECK, CLOSED, KEEP, UNREADABLE
from eyespy_live.files import printable, write_atomic
from eyespy_live.photos.decode import is_photo_file

NAME = "cull"
HELP = "sort a finished session's photos into keep / eyes closed / check (originals untouched)"
LIST_LIMIT = 40  # names listed per verdict in the summary


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session", type=Path, metavar="SESSION_DIR", help="folder of photos")
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help=f"output folder (resume file, reports, sorted folders); default SESSION_DIR/"
        f"{DEFAULT_OUT_NAME}",
    )
    parser.add_argument("-r", "--recursive", action="store_true", help="include subfolders")
    parser.add_argument("--xmp", action="store_true", help="write/merge XMP sidecar labels")
    parser.add_argument(
        "--xmp-naming",
        choices=("stem", "full"),
        default="stem",
        help="sidecar name: IMG_1.xmp (Lightroom, Capture One) or IMG_1.NEF.xmp (darktable)",
    )
    parser.add_argument(
        "--xmp-overwrite",
        action="store_true",
        help="replace labels/ratings set by hand (default: leave them)",
    )
    parser.add_argument(
        "--ratings",
        metavar="KEEP,CLOSED,CHECK",
        help="also write xmp:Rating per verdict, e.g. 3,-1,2 (-1 = rejected)",
    )
    parser.add_argument("--report", action="store_true", help="write report.json and report.csv")
    parser.add_argument(
        "--sort", choices=SORT_MODES, help="put copies or links into keep/ closed/ check/"
    )
    parser.add_argument("--sheet", action="store_true", help="write contact_sheet.html")
    parser.add_argument(
        "--all", action="store_true", help="same as --xmp --report --sheet (no folders)"
    )
    parser.add_argument("-j", "--jobs", type=int, default=0, help="worker processes (0 = cores)")
    parser.add_argument(
        "--small-faces",
        action="store_true",
        help="search every grid of tiles for small faces on every photo (default: a finer "
        "grid only where the coarser search found no face or small ones)",
    )
    parser.add_argument("--limit", type=int, help="analyse at most N new photos, then stop")
    parser.add_argument("--fresh", action="store_true", help="ignore earlier runs' results")
    parser.add_argument(
        "--progress",
        choices=("auto", "bar", "lines", "none"),
        default="auto",
        help="progress display (auto: a bar on a terminal, plain lines otherwise)",
    )
    parser.add_argument(
        "--calibrate",
        action="store_true",
        help="after relabelling wrong verdicts in your photo app (Red = closed, Green = keep), "
        "fit the closed-eyes threshold to your corrections; writes OUT/calibrated.toml",
    )
    parser.add_argument("--detector", help="face detector: blazeface or haar")
    add_config_options(parser)


def parse_ratings(text: str | None) -> dict[str, int] | None:
    if not text:
        return None
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 3 or not all(-1 <= v <= 5 for v in values):
        raise ConfigError([f"--ratings {text!r}: expected three ratings -1..5, e.g. 3,-1,2"])
    return dict(zip((KEEP, CLOSED, CHECK), values, strict=True))


def make_progress(mode: str):
    """A progress callback factory: tqdm on a terminal, a plain line every ~2 s otherwise."""
    if mode == "none":
        return None
    if mode == "bar" or (mode == "auto" and sys.stderr.isatty()):
        from tqdm import tqdm

        def bar_factory(total: int):
            bar = tqdm(
                total=total,
                unit="photo",
                desc="cull",
                file=sys.stderr,
                smoothing=0.1,
                **({} if _terminal_columns() else {"ncols": 80, "nrows": 24}),  # size unknown
            )

            def update(done: int, total: int) -> None:
                bar.update(done - bar.n)
                if done >= total:
                    bar.close()

            return update

        return bar_factory

    def lines_factory(total: int):
        started = time.monotonic()
        last = [started]  # the first line after ~2 s, once the rate means something

        def update(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] < 2.0 and done < total:
                return
            last[0] = now
            rate = done / max(1e-6, now - started)
            eta = (total - done) / rate if rate > 0 else 0.0
            print(
                f"cull: {done}/{total} photos ({100 * done // max(1, total)}%), "
                f"{rate:.1f} photos/s, ETA {eta:.0f} s",
                file=sys.stderr,
                flush=True,
            )

        return update

    return lines_factory


def _terminal_columns() -> int:
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError):
        return 0


def run(args: argparse.Namespace) -> int:
    config = load_config(args, **{"vision.detector": args.detector})
    options = CullOptions(
        session=args.session,
        out_dir=args.out,
        recursive=args.recursive,
        jobs=max(0, args.jobs),
        small_faces=args.small_faces,
        xmp=args.xmp or args.all,
        xmp_naming=args.xmp_naming,
        xmp_overwrite=args.xmp_overwrite,
        ratings=parse_ratings(args.ratings),
        report=args.report or args.all,
        sort=args.sort,
        sheet=args.sheet or args.all,
        limit=args.limit,
        fresh=args.fresh,
    )
    if not args.calibrate and args.session.is_dir():
        nothing = nothing_to_cull(args.session, options)
        if nothing:
            print(f"eyespy cull: {nothing}", file=sys.stderr)
            return 1
    try:
        if args.calibrate:
            return calibrate(options, config)
        summary = run_cull(options, config, make_progress(args.progress))
    except CullLocked as exc:
        print(f"eyespy cull: error: {printable(str(exc))}", file=sys.stderr)
        return 2
    except OutputError as exc:
        print(
            f"eyespy cull: error: {printable(str(exc))} (what was finished is kept: free "
            "space or fix the folder, then run the same command again)",
            file=sys.stderr,
        )
        return 1
    print_summary(summary, options.out)
    return 130 if summary.interrupted else 0


def _photo_names(folder: Path, depth: int) -> list[str]:
    """Photo file names under `folder` (by suffix, or by their first bytes where the suffix
    is no image format's), `depth` levels down."""
    found: list[str] = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return found
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            if depth > 0:
                found += [f"{entry.name}/{n}" for n in _photo_names(Path(entry.path), depth - 1)]
        elif is_photo_file(Path(entry.path)):
            found.append(entry.name)
    return found


def nothing_to_cull(session: Path, options: CullOptions) -> str | None:
    """Why there is nothing to cull (before any output folder is made), or None.

    A memory card keeps its photos under DCIM/100XXXXX: given the card itself, cull looks
    there by itself (as with -r).
    """
    if options.recursive or _photo_names(session, 0):
        return None
    if (session / "DCIM").is_dir() and _photo_names(session / "DCIM", 2):
        options.recursive = True
        print(f"cull: {session} looks like a memory card: reading the photos under DCIM/")
        return None
    deeper = _photo_names(session, 3)
    if deeper:
        return (
            f"no photos at the top of {session}, but {len(deeper)} in its subfolders "
            f"(e.g. {deeper[0]}): add -r to include subfolders"
        )
    return f"no photos found in {session} (looked for JPEG, RAW such as CR3/NEF/ARW/DNG, TIFF, PNG)"


def calibrate(options: CullOptions, config) -> int:
    state = CullState(options.out, state_settings(config, options.small_faces))
    state.load()
    if state.restarted_because or not state.records:
        raise ConfigError(
            [f"nothing to calibrate from in {options.out}: run `eyespy cull --xmp` first, "
             "with the same settings, then relabel the photos it got wrong"]
        )  # fmt: skip
    examples = collect_examples(list(state.records.values()), options.session, options.xmp_naming)
    if not examples:
        print(
            f"no XMP sidecars written by eyespy beside the photos in {options.session}; run "
            "`eyespy cull --xmp` first, relabel the photos it got wrong, then --calibrate"
        )
        return 1
    if not any(e.corrected for e in examples):
        print(
            f"no corrections found: the {len(examples)} sidecars still carry the labels eyespy "
            "wrote; relabel the wrong ones (Red = closed, Green = keep), then --calibrate"
        )
        return 1
    result = fit_threshold(examples, config.blink.photo_t_half)
    snippet = config_snippet(result, config.blink.photo_t_closed)
    target = options.out / "calibrated.toml"
    try:
        write_atomic(target, snippet)
    except OSError as exc:
        raise OutputError(f"{options.out}: cannot write calibrated.toml: {exc.strerror}") from None
    print(snippet, end="")
    print(f"written to {target}; use it with --config {target} (or copy the [blink] lines)")
    return 0


def print_summary(summary: CullSummary, out: Path | None = None) -> None:
    if summary.restarted_because:
        print(f"note: earlier results not reused: {summary.restarted_because}")
    counts = summary.counts
    done = sum(counts.values())
    head = f"cull: {done} of {summary.total} photos"
    if summary.analysed:
        head += f"; analysed {summary.analysed} in {summary.seconds:.1f} s ({summary.rate:.1f}/s)"
    if summary.resumed:
        head += f"; {summary.resumed} already done earlier"
    print(head)
    print(
        f"  keep {counts.get(KEEP, 0)}, eyes closed {counts.get(CLOSED, 0)}, "
        f"check {counts.get(CHECK, 0)}, unreadable {counts.get(UNREADABLE, 0)}"
    )
    for verdict in (CLOSED, CHECK, UNREADABLE):
        items = [r for r in summary.records if r["verdict"] == verdict]
        for record in items[:LIST_LIMIT]:
            print(f"  {verdict:10} {printable(record['path'])}: {printable(record['reason'])}")
        if len(items) > LIST_LIMIT:
            print(f"  {verdict:10} ... and {len(items) - LIST_LIMIT} more")
    for note in summary.notes:
        print(f"  note: {printable(note)}")
    if summary.sidecars:
        print(f"  sidecars: {summary.sidecars} XMP files written beside the photos")
    for name, path in summary.outputs.items():
        print(f"  {name}: {printable(path)}")
    if out is not None and not summary.outputs and not summary.sidecars:
        print(
            f"  wrote only the resume file in {printable(str(out))} (the next run "
            "continues from it); add --xmp for labels in Lightroom/darktable, --sheet for a "
            "contact sheet, --report for JSON/CSV, --sort copy for folders, or --all"
        )
    if summary.interrupted or done < summary.total:
        print("  (not finished: run the same command again to continue)")
