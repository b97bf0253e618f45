"""Per-frame vision: face detection, eye crops, eye-state inference, tracking."""
