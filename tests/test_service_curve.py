"""Remote subscribers: opt-in, and only with a listed CURVE key; everything else is loopback.

A real service process binds all interfaces with CURVE; subscribers connect over TCP with the
authorised key, an unlisted key and no key at all. Only the first hears anything.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from endpoints import free_tcp_endpoint

from eyespy_live import config as config_module
from eyespy_live.bus.curve import client_socket_options, write_keypair
from eyespy_live.bus.pubsub import Subscriber, is_local_endpoint
from eyespy_live.config import ConfigError

REPO = Path(__file__).resolve().parents[1]
EYESPY = [sys.executable, "-m", "eyespy_live"]


def eyespy(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([*EYESPY, *args], capture_output=True, text=True, timeout=timeout)


def test_eyespy_keys_writes_a_private_secret_and_never_overwrites(tmp_path):
    done = eyespy("keys", "server", "--dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    public, secret = tmp_path / "server.key", tmp_path / "server.key_secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert stat.S_IMODE(public.stat().st_mode) == 0o644
    assert "secret-key" in secret.read_text() and "secret-key" not in public.read_text()
    before = secret.read_text()
    again = eyespy("keys", "server", "--dir", str(tmp_path))
    assert again.returncode == 2 and "--force" in again.stderr
    assert secret.read_text() == before, "an existing key is never replaced by accident"


def test_default_and_example_configs_bind_only_loopback():
    default = config_module.load(None)
    example = config_module.load(REPO / "systemd" / "config.toml")
    for bus in (default.bus, example.bus):
        assert is_local_endpoint(bus.endpoint)
        assert not bus.allow_remote and not bus.insecure_remote


def test_remote_without_curve_is_refused_unless_explicitly_insecure():
    with pytest.raises(ConfigError, match="needs CURVE keys"):
        config_module.load(None, {"bus.allow_remote": True})
    insecure = config_module.load(None, {"bus.allow_remote": True, "bus.insecure_remote": True})
    assert insecure.bus.insecure_remote
    with pytest.raises(ConfigError, match="go together"):
        config_module.load(None, {"bus.curve_secret_key_file": "/etc/eyespy/keys/x.key_secret"})


def listening_addresses(pid: int) -> set[str]:
    """host:port of the TCP sockets process `pid` listens on (from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            cols = line.split()
            if cols[3] == "0A" and cols[9] in inodes:  # 0A = LISTEN
                host, port = cols[1].split(":")
                addr = ".".join(str(int(host[i : i + 2], 16)) for i in (6, 4, 2, 0))
                found.add(f"{addr if len(host) == 8 else host}:{int(port, 16)}")
    return found


def test_only_an_authorised_curve_subscriber_receives(tmp_path):
    keys, authorized, strangers = tmp_path / "keys", tmp_path / "authorized", tmp_path / "other"
    for name, folder in (("server", keys), ("laptop", keys), ("stranger", strangers)):
        assert eyespy("keys", name, "--dir", str(folder)).returncode == 0
    authorized.mkdir()
    shutil.copy(keys / "laptop.key", authorized / "laptop.key")  # only the public half

    port = free_tcp_endpoint().rsplit(":", 1)[1]
    config = tmp_path / "config.toml"
    config.write_text(
        '[source]\nspec = "demo"\nloop = true\nrealtime = true\n'
        f'[bus]\nendpoint = "tcp://0.0.0.0:{port}"\nallow_remote = true\n'
        f'curve_secret_key_file = "{keys / "server.key_secret"}"\n'
        f'curve_authorized_keys_dir = "{authorized}"\n'
        "[service]\nstatus_interval_s = 0.3\n"
    )
    remote = f"tcp://127.0.0.1:{port}"
    service = subprocess.Popen(
        [*EYESPY, "service", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    allowed = Subscriber(
        remote,
        ["status"],
        socket_options=client_socket_options(keys / "server.key", keys / "laptop.key_secret"),
    )
    unlisted = Subscriber(
        remote,
        ["status"],
        socket_options=client_socket_options(
            keys / "server.key", strangers / "stranger.key_secret"
        ),
    )
    plain = Subscriber(remote, ["status"])
    try:
        got = allowed.receive(timeout_s=60)
        assert got is not None, "the authorised subscriber hears the heartbeat"
        assert got[0]["type"] == "status"
        assert f"0.0.0.0:{port}" in listening_addresses(service.pid)
        # Give the others the same chance over a few heartbeats: nothing gets through.
        deadline = time.monotonic() + 2.0
        heard_by_allowed = 1
        while time.monotonic() < deadline:
            heard_by_allowed += allowed.receive(timeout_s=0.2) is not None
        assert heard_by_allowed >= 3
        assert unlisted.receive(timeout_s=0.5) is None, "an unlisted key receives nothing"
        assert plain.receive(timeout_s=0.5) is None, "a subscriber without CURVE receives nothing"

        tail = eyespy(
            "tail",
            "--endpoint",
            remote,
            "--topic",
            "status",
            "--count",
            "1",
            "--timeout",
            "30",
            "--server-key",
            str(keys / "server.key"),
            "--client-key",
            str(keys / "laptop.key_secret"),
        )
        assert tail.returncode == 0, tail.stderr
        assert json.loads(tail.stdout.splitlines()[0])["type"] == "status"
        no_key = eyespy("tail", "--endpoint", remote, "--count", "1", "--timeout", "1.5")
        assert no_key.returncode == 1 and no_key.stdout == ""  # heard nothing: says so
        assert "no events received" in no_key.stderr
    finally:
        for sub in (allowed, unlisted, plain):
            sub.close()
        service.terminate()
        out = service.communicate(timeout=10)[0]
    assert service.returncode == 0, out
    assert "with CURVE" in out


def test_a_loopback_service_listens_on_nothing_else(tmp_path):
    endpoint = free_tcp_endpoint()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[source]\nspec = "demo"\nloop = true\nrealtime = true\n[bus]\nendpoint = "{endpoint}"\n'
    )
    service = subprocess.Popen(
        [*EYESPY, "service", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sub = Subscriber(endpoint, ["status"])
    try:
        assert sub.receive(timeout_s=60) is not None
        # The event stream and, beside it, the command socket (the shutter): both loopback.
        host, port = endpoint.removeprefix("tcp://").rsplit(":", 1)
        assert listening_addresses(service.pid) == {f"{host}:{port}", f"{host}:{int(port) + 1}"}
    finally:
        sub.close()
        service.terminate()
        service.wait(timeout=10)


def test_curve_key_files_are_checked_with_clear_errors(tmp_path):
    public, secret = write_keypair(tmp_path, "laptop")
    with pytest.raises(ConfigError, match="holds only a public key"):
        client_socket_options(public, public)
    with pytest.raises(ConfigError, match="key file not found"):
        client_socket_options(tmp_path / "missing.key", secret)
    (tmp_path / "junk.key").write_text("hello\n")
    with pytest.raises(ConfigError, match="not a ZeroMQ key file"):
        client_socket_options(tmp_path / "junk.key", secret)
