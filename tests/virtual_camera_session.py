"""A tethered session on libgphoto2's virtual camera, run as its own process by the tests.

The test sets VCAMERADIR (the folder the virtual camera serves photos from) for this process
only. Each line "shoot" on stdin presses the shutter (the virtual camera has no button to
press); end of stdin ends the session. Usage: python virtual_camera_session.py ENDPOINT
[SAVE_DIR].
"""

from __future__ import annotations

import sys
import threading

from eyespy_live.bus.pubsub import Publisher
from eyespy_live.config import Config
from eyespy_live.live.run import run_live
from eyespy_live.sources import open_source


def main() -> None:
    endpoint = sys.argv[1]
    save_dir = sys.argv[2] if len(sys.argv) > 2 else None
    config = Config()
    config.service.status_interval_s = 0.5
    source = open_source("gphoto2", save_dir=save_dir)
    publisher = Publisher(endpoint)
    stop = threading.Event()
    session = threading.Thread(
        target=run_live, args=(config, source, publisher), kwargs={"stop": stop}
    )
    session.start()
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "shoot":
            source.trigger()
    stop.set()
    source.close()
    session.join(timeout=30)
    publisher.close()


if __name__ == "__main__":
    main()
