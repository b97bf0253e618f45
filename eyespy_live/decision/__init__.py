"""From eye readings to verdicts: the analyzer (frames → per-face readings), the blink state
machine (readings over time → events) and the photo verdict (one shot → keep / retake / check).
"""
