"""The relay and MQTT bridge units verify like the others; the relay says READY and pets the
watchdog; relay settings are validated."""

from __future__ import annotations

import socket

from endpoints import free_tcp_endpoint
from multi_procs import Proc
from test_service_units import EYESPY, UNITS, settings, verify


def test_relay_unit_verifies_cleanly(tmp_path):
    text = (UNITS / "eyespy-relay.service").read_text()
    assert "ExecStart=/opt/eyespy/venv/bin/eyespy relay --config /etc/eyespy/config.toml" in text
    done = verify(
        text.replace("/opt/eyespy/venv/bin/eyespy", str(EYESPY)), "eyespy-relay.service", tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout + done.stderr == ""


def test_relay_unit_is_a_notify_service_with_a_watchdog_and_no_devices():
    unit = settings(UNITS / "eyespy-relay.service")
    assert unit["Type"] == ["notify"] and int(unit["WatchdogSec"][0]) >= 5
    assert unit["RestartPreventExitStatus"] == ["2"]
    assert unit["PrivateDevices"] == ["yes"] and unit["User"] == ["eyespy"]


def test_relay_says_ready_and_pets_the_watchdog(tmp_path):
    address = str(tmp_path / "notify")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(address)
    listener.settimeout(30)
    relay = Proc(
        "relay",
        "--frontend",
        free_tcp_endpoint(),
        "--backend",
        free_tcp_endpoint(),
        env={"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "15000000"},
    )
    try:
        messages = [listener.recv(4096).decode() for _ in range(3)]
    finally:
        assert relay.stop() == 0
        listener.close()
    assert messages[0].startswith("READY=1")
    assert "WATCHDOG=1" in messages[1:]


def test_relay_refuses_a_network_endpoint_without_keys_in_one_line():
    relay = Proc("relay", "--backend", "tcp://0.0.0.0:5599", "--timeout", "1")
    assert relay.finish() == 2
    assert len(relay.errors) == 1 and "reachable from the network" in relay.errors[0]


def test_relay_and_connect_settings_are_checked_like_the_bus():
    import pytest

    from eyespy_live.config import ConfigError, from_dict

    bad = [
        {"relay": {"allow_remote": True}},
        {"relay": {"curve_secret_key_file": "relay.key_secret"}},
        {"relay": {"upstream_server_key_file": "cam.key"}},
        {"bus": {"connect": True, "curve_secret_key_file": "cam.key_secret"}},
        {"bus": {"connect": True, "allow_remote": True, "endpoint": "tcp://relay.lan:5558"}},
    ]
    for data in bad:
        with pytest.raises(ConfigError):
            from_dict(data)
    ok = from_dict(
        {
            "bus": {
                "connect": True,
                "curve_secret_key_file": "cam.key_secret",
                "curve_relay_key_file": "relay.key",
            },
            "relay": {"allow_remote": True, "insecure_remote": True},
        }
    )
    assert ok.bus.connect and ok.relay.backend == "tcp://127.0.0.1:5559"


def test_mqtt_unit_verifies_cleanly(tmp_path):
    text = (UNITS / "eyespy-mqtt.service").read_text()
    assert "ExecStart=/opt/eyespy/venv/bin/eyespy mqtt --config /etc/eyespy/config.toml" in text
    done = verify(
        text.replace("/opt/eyespy/venv/bin/eyespy", str(EYESPY)), "eyespy-mqtt.service", tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout + done.stderr == ""
    unit = settings(UNITS / "eyespy-mqtt.service")
    assert unit["RestartPreventExitStatus"] == ["2"] and unit["User"] == ["eyespy"]
