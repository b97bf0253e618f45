"""Config fuzzing: any TOML document gives a valid Config or a ConfigError naming the key.

Never another exception, and never a Config holding a value outside its declared range.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eyespy_live.config import Config, ConfigError, from_dict, load

pytestmark = pytest.mark.timeout(120)

SECTIONS = {
    f.name: [g.name for g in dataclasses.fields(f.default_factory())]
    for f in dataclasses.fields(Config)
}  # type: ignore[misc]

scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["blazeface", "haar", "full", "short", "tcp://127.0.0.1:5557", "ipc:///tmp/x"]),
    st.dates(),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)


@st.composite
def documents(draw):
    """Mostly real section and key names, with wrong, odd and unknown ones mixed in."""
    document = {}
    for section in draw(
        st.lists(st.sampled_from([*SECTIONS, "extra", ""]), max_size=5, unique=True)
    ):
        if section in SECTIONS and draw(st.booleans()):
            keys = st.sampled_from([*SECTIONS[section], "unknown_key"])
            document[section] = draw(st.dictionaries(keys, values, max_size=6))
        else:
            document[section] = draw(values)
    return document


def names_a_key(problem: str, document: dict) -> bool:
    keys = {f"{s}.{k}" for s, table in document.items() if isinstance(table, dict) for k in table}
    return (
        any(key in problem for key in keys)
        or any(f"[{s}]" in problem or problem.startswith(f"{s}:") for s in document)
        or problem.startswith("blink thresholds")
    )


def assert_within_declared_ranges(config: Config) -> None:
    for section_field in dataclasses.fields(config):
        section = getattr(config, section_field.name)
        for f in dataclasses.fields(section):
            value, meta = getattr(section, f.name), f.metadata
            if isinstance(value, float):
                assert math.isfinite(value), f"{section_field.name}.{f.name} = {value}"
            if meta.get("low") is not None and not isinstance(value, bool):
                assert meta["low"] <= value <= meta["high"], f"{section_field.name}.{f.name}"
            if meta.get("choices"):
                assert value in meta["choices"]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_any_document_gives_a_config_or_a_config_error_naming_the_key(document):
    try:
        config = from_dict(document)
    except ConfigError as error:
        assert error.problems
        for problem in error.problems:
            assert names_a_key(problem, document), problem
    else:
        assert_within_declared_ranges(config)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_text_file_gives_a_config_or_one_clear_config_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("cfg") / "eyespy.toml"
    path.write_text(text, encoding="utf-8")
    try:
        load(path)
    except ConfigError as error:
        assert error.problems and all(isinstance(p, str) and p for p in error.problems)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_numbers_are_rejected_by_name(tmp_path, value):
    path = tmp_path / "eyespy.toml"
    path.write_text(f"[vision]\nmin_face_score = {value}\n")
    assert tomllib.loads(path.read_text())  # valid TOML: the config layer must catch it
    with pytest.raises(ConfigError, match="vision.min_face_score"):
        load(path)
