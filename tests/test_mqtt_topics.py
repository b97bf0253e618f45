"""MQTT topic names, broker addresses and Home Assistant discovery payloads (pure)."""

from __future__ import annotations

import pytest

from eyespy_live.bus.homeassistant import Topics, discovery_messages, slug
from eyespy_live.bus.mqtt import ROUTES, MqttError, parse_broker


def test_a_source_becomes_one_safe_topic_level():
    assert slug("folder:Today") == "folder_today"
    assert slug("video:clip #2+.mp4") == "video_clip_2_mp4"
    assert slug("webcam:0") == "webcam_0" and slug("///") == "camera"
    assert "/" not in slug("a/b/c") and len(slug("x" * 200)) == 60


def test_broker_urls():
    assert parse_broker("mqtt://broker.lan") == parse_broker("mqtt://broker.lan:1883")
    assert parse_broker("mqtts://broker.lan").port == 8883
    assert parse_broker("mqtts://broker.lan").tls
    for bad in ("tcp://x:1883", "mqtt://", "mqtt://x:1883/topic", "mqtt://x:port"):
        with pytest.raises(MqttError):
            parse_broker(bad)
    with pytest.raises(MqttError, match="config file"):
        parse_broker("mqtt://me:secret@broker.lan")


def test_shots_and_status_are_retained_blinks_are_not_all_qos_1():
    assert ROUTES == {"blink": (1, False), "shot": (1, True), "status": (1, True)}


def test_discovery_makes_one_device_with_a_retake_and_a_verdict_entity():
    topics = Topics("eyespy", "homeassistant", "studio")
    (t1, retake), (t2, verdict) = discovery_messages(topics, "folder:Today")
    assert t1 == "homeassistant/binary_sensor/eyespy_folder_today/retake/config"
    assert t2 == "homeassistant/sensor/eyespy_folder_today/last_verdict/config"
    assert retake["device"] == verdict["device"]
    assert retake["state_topic"] == verdict["state_topic"] == "eyespy/folder_today/shot"
    assert retake["device_class"] == "problem" and "retake" in retake["value_template"]
    assert retake["unique_id"] != verdict["unique_id"]
    assert retake["availability"][0] == {"topic": "eyespy/bridge/studio/status"}
    assert retake["availability_mode"] == "all"
