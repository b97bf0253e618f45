"""Config files: every problem is named with its key, its value and what is allowed."""

import pytest

from eyespy_live import config


def write(tmp_path, text):
    path = tmp_path / "eyespy.toml"
    path.write_text(text)
    return path


def test_no_file_gives_the_defaults_bound_to_localhost():
    cfg = config.load(None)
    assert cfg.bus.endpoint.startswith("tcp://127.0.0.1:")
    assert cfg.bus.allow_remote is False


def test_values_from_the_file_and_overrides_on_top(tmp_path):
    path = write(tmp_path, '[vision]\ndetector = "haar"\n[blink]\nt_closed = 0.7\n')
    cfg = config.load(path, {"blink.t_closed": 0.8})
    assert cfg.vision.detector == "haar" and cfg.blink.t_closed == 0.8


def test_every_problem_is_reported_at_once(tmp_path):
    path = write(
        tmp_path,
        '[vision]\ndetector = "yolo"\ndetect_evry = 2\n[blink]\nt_closed = "high"\n'
        "[colour]\nx = 1\n",
    )
    with pytest.raises(config.ConfigError) as info:
        config.load(path)
    problems = "\n".join(info.value.problems)
    assert len(info.value.problems) == 4
    assert "vision.detector = 'yolo': allowed values are 'blazeface', 'haar'" in problems
    assert "vision.detect_evry: unknown key" in problems and "detect_every" in problems
    assert "blink.t_closed = 'high': must be a float" in problems
    assert "[colour]: unknown section" in problems


def test_ranges_and_types_are_checked():
    with pytest.raises(config.ConfigError, match="between 1 and 100"):
        config.from_dict({"vision": {"detect_every": 0}})
    with pytest.raises(config.ConfigError, match="true or false"):
        config.from_dict({"blink": {"both_eyes": "yes"}})
    with pytest.raises(config.ConfigError, match="t_half <= t_open <= t_closed"):
        config.from_dict({"blink": {"t_open": 0.9}})


def test_broken_toml_and_missing_files_are_config_errors(tmp_path):
    with pytest.raises(config.ConfigError, match="not valid TOML"):
        config.load(write(tmp_path, "[vision\n"))
    with pytest.raises(config.ConfigError, match="not found"):
        config.load(tmp_path / "missing.toml")


def test_the_described_defaults_are_themselves_a_valid_config(tmp_path):
    cfg = config.load(write(tmp_path, config.describe()))
    assert cfg == config.Config()
