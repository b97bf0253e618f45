"""The network's shape, importable without TensorFlow."""

# Stages: "s" space-to-depth (2×2 pixel blocks into 4 channels, so the first conv runs on
# 12×12×4, which int8 kernels do ~3× faster than 24×24×1), then 3×3 conv + batch-norm + ReLU
# of the given widths with 2×2 max-pools ("p"), global average pooling, one sigmoid unit.
# Chosen on validation accuracy within ≤50 µs per eye in int8 on one core (README: model).
DEFAULT_LAYOUT: tuple = ("s", 24, "p", 48, "p", 96)
DEFAULT_EPOCHS = 100


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
