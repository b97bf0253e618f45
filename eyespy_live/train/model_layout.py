"""The network's shape, importable without TensorFlow."""

# Stages: 3×3 conv + batch-norm + ReLU of the given widths with 2×2 max-pools ("p"), global
# average pooling, one sigmoid unit. Only 8 channels at full 24×24 resolution: int8 kernels
# are slow on a 1-channel input, and that first conv was most of the time at 16 channels.
# Chosen within ≤50 µs per eye in int8 on one core (docs/model.md; the card lists the
# layouts tried). "s" (space-to-depth) and "dN" (depthwise-separable) stages are available.
DEFAULT_LAYOUT: tuple = (8, "p", 16, "p", 32, "p", 64)
DEFAULT_EPOCHS = 100
DEFAULT_ENSEMBLE = 1  # seed copies averaged in one graph (`--ensemble`)


def parse_layout(text: str) -> tuple:
    """"s,16,p,d32" → ("s", 16, "p", "d32"): ints are full 3×3 convs, "dN" depthwise-separable,
    "p" a 2×2 max-pool, "s" space-to-depth (2×2 blocks into channels)."""
    steps: list = []
    for raw in text.split(","):
        step = raw.strip()
        if step in ("p", "s") or (step.startswith("d") and step[1:].isdigit()):
            steps.append(step)
        elif step.isdigit():
            steps.append(int(step))
        else:
            raise ValueError(f"layout step {step!r}: expected a width, 'p' or 'dN'")
    return tuple(steps)
