"""One TOML file plus command-line overrides, validated strictly.

Every key is declared once below with its type, default and meaning. Unknown keys and bad
values are errors; all of them are reported at once, each naming the key path, the value
given and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

from eyespy_live.files import TEXT_LIMIT, read_text, symlink_problem


class ConfigError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid configuration:\n  " + "\n  ".join(problems))


def _opt(
    default: Any,
    help: str,
    choices: tuple | None = None,
    low: float | None = None,
    high: float | None = None,
) -> Any:
    meta = {"help": help, "choices": choices, "low": low, "high": high}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class SourceConfig:
    spec: str = _opt(
        "webcam:0", "what to watch: webcam:N, video:PATH, folder:DIR, gphoto2[:MODEL], demo"
    )
    realtime: bool = _opt(False, "pace a video file at its frame rate, like a camera")
    loop: bool = _opt(False, "start a video file again at its end")
    watch: bool = _opt(False, "folder source: keep watching for new files (hot folder)")
    save_dir: str = _opt("", "gphoto2 source: also save each downloaded shot here ('' = don't)")
    name: str = _opt(
        "", "the camera's name in events ('' = the source id, e.g. webcam:0); one per camera"
    )


@dataclass
class VisionConfig:
    detector: str = _opt("blazeface", "face detector plugin", choices=("blazeface", "haar"))
    detector_variant: str = _opt(
        "full", "BlazeFace model: full-range or short-range", choices=("full", "short")
    )
    detect_every: int = _opt(
        3, "run the face detector every N live frames (tracked between)", low=1, high=100
    )
    min_face_score: float = _opt(0.6, "ignore faces the detector is less sure of", low=0, high=1)
    model: str = _opt("", "eye-state .tflite model ('' = the one shipped with eyespy)")
    geometry: bool = _opt(
        True,
        "eyelid geometry (face mesh + iris landmarks) as a second opinion on faces the eye "
        "model does not call clearly open; false: the eye model alone",
    )
    smear_check: bool = _opt(
        True,
        "live frames in which a fast head movement smears the face are can't tell (a smeared "
        "open eye reads shut); false: read every frame",
    )
    threads: int = _opt(1, "interpreter threads", low=1, high=8)


@dataclass
class BlinkConfig:
    t_closed: float = _opt(
        0.15,
        "P(closed) of both eyes (geometric mean) at or above which they count as closed",
        low=0,
        high=1,
    )
    t_open: float = _opt(
        0.09, "P(closed) below which closed eyes count as open again", low=0, high=1
    )
    t_half: float = _opt(
        0.07, "P(closed) at or above which open eyes count as half closed", low=0, high=1
    )
    both_eyes: bool = _opt(True, "a blink needs both eyes closed (false: winks count too)")
    min_closed_frames: int = _opt(1, "shortest blink in frames", low=1, high=1000)
    min_closed_ms: float = _opt(
        50.0, "shortest blink, last open frame to reopened, in ms", low=0, high=10000
    )
    min_half_frames: int = _opt(2, "shortest half blink in frames", low=1, high=1000)
    max_unknown_frames: int = _opt(2, "can't-tell frames tolerated inside a blink", low=0, high=100)
    long_closure_ms: float = _opt(
        700.0, "report eyes_closed when a closure lasts this long", low=0, high=60000
    )
    max_onset_ms: float = _opt(
        250.0,
        "a blink closes within this long of the last open frame (a laugh narrows slower)",
        low=0,
        high=10000,
    )
    min_open_before_ms: float = _opt(
        100.0, "eyes must be seen open this long before a closure counts", low=0, high=10000
    )
    max_blink_ms: float = _opt(
        700.0, "lids shut longer than this is not a blink", low=0, high=60000
    )
    max_head_dip: float = _opt(
        5.0,
        "a closure during which the head tilts down more than this (degrees) is a glance "
        "down, not closed eyes (0: off)",
        low=0,
        high=90,
    )
    open_level: float = _opt(
        0.02,
        "P(closed) open eyes are taken to read; a face whose open eyes read higher (glare on "
        "glasses) has its thresholds raised by the difference (in logit)",
        low=0.001,
        high=0.999,
    )
    open_level_ms: float = _opt(
        2000.0, "how far back a face's open level is measured, in ms (0: fixed thresholds)",
        low=0, high=60000,
    )
    half_blinks: bool = _opt(True, "publish half blinks too")
    photo_t_closed: float = _opt(
        0.5, "a still photo's face: eyes closed at or above this P(closed)", low=0, high=1
    )
    photo_wink: str = _opt(
        "retake", "a still photo with a wink (one eye shut, the other open)",
        choices=("retake", "check", "keep"),
    )
    photo_t_half: float = _opt(
        0.5,
        "a still photo's face: half closed (a retake too) at or above this; cull --calibrate"
        " fits it",
        low=0,
        high=1,
    )


@dataclass
class BusConfig:
    endpoint: str = _opt("tcp://127.0.0.1:5557", "ZeroMQ endpoint to publish on (tcp:// or ipc://)")
    allow_remote: bool = _opt(False, "allow an endpoint reachable from the network")
    high_water_mark: int = _opt(
        1000, "events queued per subscriber before dropping", low=1, high=1_000_000
    )
    preview_fps: float = _opt(
        0.0, "publish JPEG preview frames this often (0 = never)", low=0, high=30
    )
    curve_secret_key_file: str = _opt(
        "", "CURVE: this publisher's secret key file (server.key_secret from `eyespy keys`)"
    )
    curve_authorized_keys_dir: str = _opt(
        "", "CURVE: folder of client public keys (*.key) allowed to subscribe"
    )
    command_endpoint: str = _opt(
        "",
        "ZeroMQ REP socket for requests such as firing the shutter ('' = the event port + 1, "
        "'off' = none); localhost only unless CURVE keys are set",
    )
    insecure_remote: bool = _opt(
        False, "allow_remote without CURVE: anyone on the network can subscribe (not advised)"
    )
    connect: bool = _opt(
        False, "connect to endpoint (an `eyespy relay` frontend) instead of binding it"
    )
    curve_relay_key_file: str = _opt(
        "", "CURVE with connect = true: the relay's public key file (relay.key)"
    )


@dataclass
class ServiceConfig:
    status_interval_s: float = _opt(5.0, "seconds between status heartbeats", low=0.1, high=3600)
    source_stall_s: float = _opt(
        20.0,
        "service: reopen a source that delivers no frame for this long (0 = never; "
        "a watching hot folder is never counted as stalled)",
        low=0,
        high=3600,
    )


@dataclass
class RelayConfig:
    frontend: str = _opt(
        "tcp://127.0.0.1:5558",
        "relay: where publishers connect (bus.connect = true); '' = only --upstream",
    )
    backend: str = _opt("tcp://127.0.0.1:5559", "relay: where subscribers connect")
    allow_remote: bool = _opt(False, "relay: allow endpoints reachable from the network")
    insecure_remote: bool = _opt(
        False, "relay: allow_remote without CURVE: anyone on the network can connect"
    )
    curve_secret_key_file: str = _opt(
        "", "relay CURVE: its secret key file; both sides then need a listed client key"
    )
    curve_authorized_keys_dir: str = _opt(
        "", "relay CURVE: folder of public keys (*.key) of cameras and subscribers let in"
    )
    upstream_server_key_file: str = _opt(
        "", "relay CURVE: public key of the publishers named with --upstream"
    )
    status_interval_s: float = _opt(
        5.0, "relay: seconds between its status heartbeats", low=0.1, high=3600
    )
    high_water_mark: int = _opt(
        10000, "relay: messages queued per peer before dropping", low=1, high=1_000_000
    )


@dataclass
class MqttConfig:
    broker: str = _opt("mqtt://127.0.0.1:1883", "MQTT bridge: mqtt://HOST[:PORT] or mqtts://")
    username: str = _opt("", "MQTT bridge: user name ('' = none)")
    password: str = _opt("", "MQTT bridge: password (keep this file private: chmod 600)")
    tls_ca_file: str = _opt("", "MQTT bridge: CA certificate file for TLS ('' = system CAs)")
    tls_cert_file: str = _opt("", "MQTT bridge: client certificate for TLS ('' = none)")
    tls_key_file: str = _opt("", "MQTT bridge: client certificate's key file")
    client_id: str = _opt("", "MQTT bridge: client id ('' = eyespy-NAME)")
    name: str = _opt("", "MQTT bridge: its name in topics ('' = the host name)")
    topic_prefix: str = _opt("eyespy", "MQTT bridge: first topic level")
    discovery: bool = _opt(True, "MQTT bridge: send Home Assistant discovery messages")
    discovery_prefix: str = _opt("homeassistant", "MQTT bridge: Home Assistant discovery prefix")
    keepalive_s: float = _opt(
        30.0, "MQTT bridge: keep-alive; the will fires after 1.5x", low=1, high=3600
    )
    reconnect_max_s: float = _opt(
        10.0, "MQTT bridge: longest wait between reconnects", low=1, high=600
    )
    queue_size: int = _opt(
        1000, "MQTT bridge: messages held while the broker is away", low=1, high=1_000_000
    )
    stats_interval_s: float = _opt(
        30.0, "MQTT bridge: seconds between its stats messages", low=1, high=3600
    )


@dataclass
class Config:
    source: SourceConfig = field(default_factory=SourceConfig)
    vision: VisionConfig = field(default_factory=VisionConfig)
    blink: BlinkConfig = field(default_factory=BlinkConfig)
    bus: BusConfig = field(default_factory=BusConfig)
    service: ServiceConfig = field(default_factory=ServiceConfig)
    relay: RelayConfig = field(default_factory=RelayConfig)
    mqtt: MqttConfig = field(default_factory=MqttConfig)


def _check_value(path: str, value: Any, expected: type, meta: dict) -> tuple[Any, str | None]:
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if expected is bool and not isinstance(value, bool):
        return value, f"{path} = {value!r}: must be true or false"
    if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
        return value, f"{path} = {value!r}: must be a whole number"
    if not isinstance(value, expected):
        return value, f"{path} = {value!r}: must be a {expected.__name__}"
    if expected is float and not math.isfinite(value):  # TOML allows nan and inf
        return value, f"{path} = {value!r}: must be a finite number"
    choices = meta.get("choices")
    if choices and value not in choices:
        return value, f"{path} = {value!r}: allowed values are {', '.join(map(repr, choices))}"
    low, high = meta.get("low"), meta.get("high")
    if low is not None and value < low or high is not None and value > high:
        return value, f"{path} = {value!r}: must be between {low} and {high}"
    return value, None


def from_dict(data: dict[str, Any]) -> Config:
    problems: list[str] = []
    config = Config()
    sections = {f.name: f for f in fields(Config)}
    for section_name, section_values in data.items():
        if section_name not in sections:
            problems.append(
                f"[{section_name}]: unknown section; allowed sections are {', '.join(sections)}"
            )
            continue
        if not isinstance(section_values, dict):
            problems.append(f"{section_name}: must be a [{section_name}] table")
            continue
        section = getattr(config, section_name)
        hints = get_type_hints(type(section))
        known = {f.name: f for f in fields(section)}
        for key, value in section_values.items():
            path = f"{section_name}.{key}"
            if key not in known:
                problems.append(
                    f"{path}: unknown key; allowed keys in [{section_name}] are {', '.join(known)}"
                )
                continue
            value, problem = _check_value(path, value, hints[key], dict(known[key].metadata))
            if problem:
                problems.append(problem)
            else:
                setattr(section, key, value)
    b = config.blink
    if not problems and not b.t_half <= b.t_open <= b.t_closed:
        problems.append(
            f"blink thresholds must satisfy t_half <= t_open <= t_closed "
            f"(got {b.t_half}, {b.t_open}, {b.t_closed})"
        )
    if not problems and not b.photo_t_half <= b.photo_t_closed:
        problems.append(
            f"blink thresholds must satisfy photo_t_half <= photo_t_closed "
            f"(got {b.photo_t_half}, {b.photo_t_closed})"
        )
    problems.extend(_bus_problems(config.bus) if not problems else [])
    problems.extend(_relay_problems(config.relay) if not problems else [])
    if problems:
        raise ConfigError(problems)
    return config


def _bus_problems(bus: BusConfig) -> list[str]:
    """Remote subscribers need CURVE keys, unless insecure_remote says otherwise."""
    if bus.connect:
        # a camera connecting to a relay is a CURVE client: its own keys + the relay's key
        if bool(bus.curve_secret_key_file) != bool(bus.curve_relay_key_file):
            return [
                "bus.connect = true with CURVE needs bus.curve_secret_key_file (this camera's "
                "keys) and bus.curve_relay_key_file (the relay's public key), or neither"
            ]
        secure = bool(bus.curve_secret_key_file)
    else:
        if bool(bus.curve_secret_key_file) != bool(bus.curve_authorized_keys_dir):
            return [
                "bus.curve_secret_key_file and bus.curve_authorized_keys_dir go together: "
                "set both to use CURVE, or neither"
            ]
        secure = bool(bus.curve_secret_key_file)
    if bus.allow_remote and not secure and not bus.insecure_remote:
        return [
            "bus.allow_remote = true needs CURVE keys (bus.curve_secret_key_file and "
            "bus.curve_authorized_keys_dir, see `eyespy keys`), or insecure_remote = true "
            "to let anyone on the network subscribe"
        ]
    return []


def _relay_problems(relay: RelayConfig) -> list[str]:
    """The relay's keys go together; a network address needs them (or insecure_remote)."""
    if bool(relay.curve_secret_key_file) != bool(relay.curve_authorized_keys_dir):
        return [
            "relay.curve_secret_key_file and relay.curve_authorized_keys_dir go together: "
            "set both to use CURVE, or neither"
        ]
    if relay.upstream_server_key_file and not relay.curve_secret_key_file:
        return ["relay.upstream_server_key_file needs the relay's own keys too"]
    if relay.allow_remote and not relay.curve_secret_key_file and not relay.insecure_remote:
        return [
            "relay.allow_remote = true needs CURVE keys (relay.curve_secret_key_file and "
            "relay.curve_authorized_keys_dir), or insecure_remote = true"
        ]
    return []


def load(path: str | Path | None, overrides: dict[str, Any] | None = None) -> Config:
    """Read a TOML file (or none) and apply `{"section.key": value}` overrides on top."""
    data: dict[str, Any] = {}
    if path is not None:
        file = Path(path)
        try:
            # A regular file of sane size: /dev/zero or a FIFO would never end.
            data = tomllib.loads(read_text(file, TEXT_LIMIT))
        except FileNotFoundError:
            raise ConfigError([f"config file not found: {file}"]) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError([f"{file}: not valid TOML: {exc}"]) from None
        except RecursionError:
            raise ConfigError([f"{file}: not valid TOML: nested too deeply"]) from None
        except OSError as exc:
            raise ConfigError([f"config file {file}: {_os_reason(exc, file)}"]) from None
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.partition(".")
        data.setdefault(section, {})
        if isinstance(data[section], dict):
            data[section][key] = value
    return from_dict(data)


def _os_reason(exc: OSError, file: Path) -> str:
    text = str(exc)
    if exc.strerror and exc.filename is not None:
        text = exc.strerror
    return text.removeprefix(f"{file}: ")


def file_problems(config: Config) -> list[str]:
    """Source and model files the config names that are not there (`config --check`).

    The config itself can be valid on another machine; the service finds these too when it
    starts, this lets a user see them before.
    """
    problems = []
    spec = config.source.spec
    scheme, _, rest = spec.partition(":")
    wanted: list[tuple[str, str, bool]] = []  # (key, path, is a folder)
    if scheme == "video" and rest:
        wanted.append(("source.spec", rest, False))
    elif scheme == "folder" and rest:
        wanted.append(("source.spec", rest, True))
    elif ":" not in spec and not spec.isdigit() and spec not in ("", "demo", "webcam", "gphoto2"):
        wanted.append(("source.spec", spec, False))  # a bare path is a video file
    if config.vision.model:
        wanted.append(("vision.model", config.vision.model, False))
    # The CURVE key files are checked with the rest of [bus] (bus.curve.bus_problems).
    for key, name, folder in wanted:
        path = Path(name).expanduser()
        if path.is_symlink() and (why := symlink_problem(path)):
            problems.append(f"{key} = {name!r}: {why}")
        elif folder and not path.is_dir():
            problems.append(f"{key} = {name!r}: folder not found")
        elif not folder and not path.is_file():
            what = "a folder, not a file" if path.is_dir() else "file not found"
            problems.append(f"{key} = {name!r}: {what}")
    return problems


def describe() -> str:
    """Every key with its default and meaning, as a commented TOML file."""
    lines = []
    for section_field in fields(Config):
        lines.append(f"[{section_field.name}]")
        for f in fields(section_field.default_factory()):  # type: ignore[misc]
            default = (
                f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
            )
            lines.append(f"# {f.metadata['help']}")
            lines.append(f"{f.name} = {_toml_value(default)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)
