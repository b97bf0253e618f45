"""MQTT topic names and Home Assistant discovery messages for the MQTT bridge (pure).

Each camera (event `source`) becomes one Home Assistant device with a "Retake" binary sensor
and a "Last verdict" sensor, both read from the camera's retained `shot` topic, so it
appears without any YAML. A sensor is available only while both the bridge (its last-will
topic) and the camera (its retained status) say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from eyespy_live import __version__


def slug(text: str, limit: int = 60) -> str:
    """A source id as one MQTT topic level and HA id: lower case, [a-z0-9_-] only."""
    cleaned = re.sub(r"[^a-z0-9_-]+", "_", text.lower()).strip("_-")
    return cleaned[:limit].rstrip("_-") or "camera"


@dataclass(frozen=True)
class Topics:
    prefix: str = "eyespy"
    discovery_prefix: str = "homeassistant"
    bridge: str = "bridge"

    def event(self, source: str, kind: str) -> str:
        return f"{self.prefix}/{slug(source)}/{kind}"

    @property
    def availability(self) -> str:
        """The bridge's own `online`/`offline` (its MQTT last-will)."""
        return f"{self.prefix}/bridge/{slug(self.bridge)}/status"

    @property
    def stats(self) -> str:
        return f"{self.prefix}/bridge/{slug(self.bridge)}/stats"

    @property
    def homeassistant_status(self) -> str:
        """Home Assistant's birth message: discovery is sent again when it says `online`."""
        return f"{self.discovery_prefix}/status"

    def discovery(self, component: str, source: str, key: str) -> str:
        return f"{self.discovery_prefix}/{component}/eyespy_{slug(source)}/{key}/config"


def discovery_messages(topics: Topics, source: str) -> list[tuple[str, dict[str, Any]]]:
    """(config topic, payload) for one camera's device and its two entities."""
    node = slug(source)
    shot = topics.event(source, "shot")
    device = {
        "identifiers": [f"eyespy_{node}"],
        "name": f"eyespy {source}",
        "manufacturer": "eyespy-live",
        "model": "blink and retake detector",
        "sw_version": __version__,
    }
    availability = [
        {"topic": topics.availability},
        {
            "topic": topics.event(source, "status"),
            "value_template": "{{ 'offline' if value_json.state == 'stopped' else 'online' }}",
        },
    ]
    common = {
        "state_topic": shot,
        "json_attributes_topic": shot,
        "json_attributes_template": (
            "{{ {'file': value_json.file, 'reason': value_json.reason, "
            "'seq': value_json.seq, 'capture_ts': value_json.capture_ts} | tojson }}"
        ),
        "availability": availability,
        "availability_mode": "all",
        "device": device,
        "origin": {"name": "eyespy-live", "sw_version": __version__},
        "qos": 1,
    }
    retake = {
        **common,
        "name": "Retake",
        "unique_id": f"eyespy_{node}_retake",
        "device_class": "problem",
        "value_template": "{{ 'ON' if value_json.verdict == 'retake' else 'OFF' }}",
        "icon": "mdi:eye-off",
    }
    verdict = {
        **common,
        "name": "Last verdict",
        "unique_id": f"eyespy_{node}_last_verdict",
        "value_template": "{{ value_json.verdict }}",
        "icon": "mdi:eye-check",
    }
    return [
        (topics.discovery("binary_sensor", source, "retake"), retake),
        (topics.discovery("sensor", source, "last_verdict"), verdict),
    ]
