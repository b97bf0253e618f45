"""The systemd unit files pass `systemd-analyze verify` and ask for what the service needs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import needs

REPO = Path(__file__).resolve().parents[1]
UNITS = REPO / "systemd"
EYESPY = Path(sys.executable).parent / "eyespy"  # the console script of this environment


def settings(unit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def verify(unit_text: str, name: str, tmp_path: Path, *user: str) -> subprocess.CompletedProcess:
    """Verify a copy whose ExecStart is this environment's eyespy (the real path must exist)."""
    needs.tool("systemd-analyze", "apt-get install systemd")
    copy = tmp_path / name
    copy.write_text(unit_text)
    env = dict(os.environ)
    if user:
        runtime = tmp_path / "runtime"
        runtime.mkdir(mode=0o700)
        env["XDG_RUNTIME_DIR"] = str(runtime)
    return subprocess.run(
        ["systemd-analyze", *user, "verify", str(copy)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_system_unit_verifies_cleanly(tmp_path):
    text = (UNITS / "eyespy-live.service").read_text()
    assert "ExecStart=/opt/eyespy/venv/bin/eyespy service --config /etc/eyespy/config.toml" in text
    done = verify(
        text.replace("/opt/eyespy/venv/bin/eyespy", str(EYESPY)), "eyespy-live.service", tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout + done.stderr == "", "every line is understood (unknown keys only warn)"


def test_user_unit_verifies_cleanly(tmp_path):
    text = (UNITS / "eyespy-live-user.service").read_text()
    done = verify(
        text.replace("%h/.local/bin/eyespy", str(EYESPY)), "eyespy-live.service", tmp_path, "--user"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout + done.stderr == ""


def test_verify_catches_a_mistake(tmp_path):
    text = (
        (UNITS / "eyespy-live.service")
        .read_text()
        .replace("/opt/eyespy/venv/bin/eyespy", str(EYESPY))
    )
    done = verify(text.replace("Type=notify", "Type=notifyy"), "broken.service", tmp_path)
    assert "notifyy" in done.stdout + done.stderr


def test_system_unit_runs_as_a_dedicated_user_with_usb_access_and_a_watchdog():
    unit = settings(UNITS / "eyespy-live.service")
    assert unit["Type"] == ["notify"]
    assert int(unit["WatchdogSec"][0]) > 0
    assert unit["Restart"] == ["on-failure"]
    assert unit["RestartPreventExitStatus"] == ["2"], "a config error is not retried in a loop"
    assert unit["User"] == ["eyespy"]
    assert set(unit["SupplementaryGroups"][0].split()) == {"plugdev", "video"}
    assert "PrivateDevices" not in unit, "PrivateDevices would hide /dev/bus/usb and /dev/video*"
    assert {"char-usb_device rw", "char-video4linux rw"} <= set(unit["DeviceAllow"])
    for hardening in ("NoNewPrivileges", "ProtectHome", "PrivateTmp"):
        assert unit[hardening] == ["yes"]
    assert unit["ProtectSystem"] == ["strict"]


def test_the_udev_rule_lets_plugdev_use_cameras_and_hides_them_from_gvfs():
    rule = (UNITS / "70-eyespy-gvfs.rules").read_text()
    assert 'ENV{ID_USB_INTERFACES}=="*:060101:*"' in rule  # PTP still-image cameras
    for setting in ('GROUP="plugdev"', 'ENV{ID_GPHOTO2}=""', 'ENV{ID_MTP_DEVICE}=""'):
        assert setting in rule
