"""The network's shape, importable without TensorFlow."""

# Conv widths per stage ("p" = 2×2 max-pool), each 3×3 conv + batch-norm + ReLU, then global
# average pooling and one sigmoid unit. Sized for ≤50 µs per eye in int8 on one core.
DEFAULT_LAYOUT: tuple = (16, "p", 16, "p", 32, "p", 64)
