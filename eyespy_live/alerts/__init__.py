"""Alert subscribers: each runs in its own process and reads only the public event stream."""


class AlertError(RuntimeError):
    """Something the user must fix before an alert can work (no display, no audio player)."""
