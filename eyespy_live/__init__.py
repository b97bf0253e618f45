"""eyespy-live: live blink alerts for photographers."""

__version__ = "0.1.0"
