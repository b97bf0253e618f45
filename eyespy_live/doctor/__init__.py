"""`eyespy doctor`: is this machine ready for the job it is configured for?

Each check is a small function registered with `@check(name, needed_by=...)`; it returns a
`Result` with what it found and, when something is wrong, what to do about it. A failed check
matters (exit status non-zero) only when the job asked for needs it: a missing sound player is
a note on a machine that only culls, and a failure on one that should beep.

Checks sit here, above every other layer, because they exercise all of them (models, camera,
sound, bus) the way the real commands do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# What a job is made of; a check names the jobs that need it.
JOBS = {
    "demo": "`eyespy live --demo`: the shipped clip, no camera",
    "live": "`eyespy live` / `eyespy service` with the configured source",
    "cull": "`eyespy cull` over a finished session",
    "sound": "`eyespy sound`: a tone for every retake",
    "overlay": "`eyespy overlay`: the alert page for a browser",
    "session": "`eyespy session`: live with the configured source + overlay + sound",
}
# A job that is several others at once.
PARTS = {"session": ("live", "overlay", "sound")}


def expand(jobs: list[str]) -> set[str]:
    """The jobs asked for, with each compound job's parts added."""
    found = set(jobs)
    for job in jobs:
        found.update(PARTS.get(job, ()))
    return found
ALWAYS = ("demo", "live", "cull", "sound", "overlay")


@dataclass(frozen=True)
class Result:
    ok: bool
    found: str
    fix: str = ""  # what to do when not ok
    applies: bool = True  # False: nothing to check for this configuration (shown as "-")


@dataclass
class Context:
    """What the checks look at: the job, the loaded config and the doctor's options."""

    jobs: set[str]
    config: Any
    out_dirs: list[str] = field(default_factory=list)
    player: str | None = None
    device: str | None = None

    @property
    def source(self) -> str:
        """The source kind the live job uses: demo, webcam, gphoto2, folder or video."""
        spec = "demo" if "demo" in self.jobs else str(self.config.source.spec)
        return spec.split(":", 1)[0]


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[Context], Result]
    needed_by: Callable[[Context], bool]


REGISTRY: list[Check] = []


def check(name: str, needed_by: Callable[[Context], bool] | tuple[str, ...] = ALWAYS):
    """Register a check; `needed_by` is a tuple of jobs or a predicate on the context."""

    def needs(ctx: Context) -> bool:
        if callable(needed_by):
            return needed_by(ctx)
        return bool(ctx.jobs & set(needed_by))

    def register(fn: Callable[[Context], Result]) -> Callable[[Context], Result]:
        REGISTRY.append(Check(name, fn, needs))
        return fn

    return register


@dataclass(frozen=True)
class Line:
    name: str
    result: Result
    needed: bool

    @property
    def status(self) -> str:
        if not self.result.applies:
            return "-"
        if self.result.ok:
            return "ok"
        return "FAIL" if self.needed else "warn"

    def text(self) -> str:
        tail = f" -> {self.result.fix}" if self.result.fix and not self.result.ok else ""
        return f"{self.status:<4}  {self.name:<16} {self.result.found}{tail}"


def run_checks(ctx: Context) -> list[Line]:
    """Every registered check, in registration order; a crashing check is a failed line."""
    from eyespy_live.doctor import checks  # noqa: F401 - registers the checks

    lines = []
    for item in REGISTRY:
        try:
            result = item.run(ctx)
        except Exception as exc:  # noqa: BLE001 - a broken check must not hide the others
            result = Result(False, f"check crashed: {type(exc).__name__}: {exc}", "report a bug")
        lines.append(Line(item.name, result, item.needed_by(ctx)))
    return lines
