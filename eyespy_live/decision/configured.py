"""The detector, eye model and blink settings a config asks for, shared by live runs and cull."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eyespy_live.config import Config
from eyespy_live.decision.blink import BlinkSettings
from eyespy_live.decision.judge import EyeJudge
from eyespy_live.vision.eyestate import EyeStateModel
from eyespy_live.vision.faces import create_detector


def blink_settings(config: Config, model_path: Path | None = None) -> BlinkSettings:
    """Blink settings from the config (the model's recommended thresholds are the defaults)."""
    b = config.blink
    return BlinkSettings(
        t_closed=b.t_closed,
        t_open=b.t_open,
        t_half=b.t_half,
        both_eyes=b.both_eyes,
        min_closed_frames=b.min_closed_frames,
        min_closed_ms=b.min_closed_ms,
        min_half_frames=b.min_half_frames,
        max_unknown_frames=b.max_unknown_frames,
        long_closure_ms=b.long_closure_ms,
        max_onset_ms=b.max_onset_ms,
        min_open_before_ms=b.min_open_before_ms,
        max_blink_ms=b.max_blink_ms,
        max_head_dip=b.max_head_dip,
        open_level=b.open_level,
        open_level_ms=b.open_level_ms,
        photo_t_closed=b.photo_t_closed,
        photo_t_half=b.photo_t_half,
    )


def build_detector(config: Config):
    options: dict[str, Any] = {}
    if config.vision.detector == "blazeface":
        options = {"variant": config.vision.detector_variant, "num_threads": config.vision.threads}
    return create_detector(config.vision.detector, **options)


def build_model(config: Config) -> EyeJudge:
    """The eye judgement the config asks for: the CNN, with the geometry stage unless off."""
    cnn = EyeStateModel(config.vision.model or None, num_threads=config.vision.threads)
    return EyeJudge.default(cnn, geometry=config.vision.geometry, wink=config.blink.photo_wink,
                            num_threads=config.vision.threads)
