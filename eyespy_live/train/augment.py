"""Photometric and geometric augmentation of 24×24 eye patches (numpy + OpenCV only).

What the live pipeline meets and a dataset does not show enough of: dim, overexposed or harsh light,
soft focus and motion blur, an eye crop placed a little off (detector keypoints wander by
~0.1 inter-eye distance), a slightly wrong scale or tilt, sensor noise and JPEG artefacts.
"""

from __future__ import annotations

import cv2
import numpy as np

from eyespy_live.vision.eyecrop import PATCH_SIZE


def augment_patch(patch: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """One randomly altered copy of a uint8 patch; `strength` 0 returns it unchanged."""
    if strength <= 0:
        return patch.copy()
    img = patch.astype(np.float32)
    size = PATCH_SIZE

    # Geometry: shift by up to ~12 % of the patch, scale 0.85–1.2, tilt ±12°, mirror.
    if rng.random() < 0.9:
        angle = rng.uniform(-12, 12) * strength
        scale = float(np.exp(rng.uniform(np.log(0.85), np.log(1.2)) * strength))
        matrix = cv2.getRotationMatrix2D((size / 2 - 0.5, size / 2 - 0.5), angle, scale)
        matrix[:, 2] += rng.uniform(-0.12, 0.12, 2) * size * strength
        img = cv2.warpAffine(img, matrix, (size, size), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE)
    if rng.random() < 0.5:
        img = img[:, ::-1]

    # Resolution loss: the eye seen smaller than 24 px and scaled up (small faces at the
    # back of a group photo: 8 px across an eye is common there).
    if rng.random() < 0.35:
        small = int(rng.integers(8, 20))
        img = cv2.resize(cv2.resize(img, (small, small), interpolation=cv2.INTER_AREA),
                         (size, size), interpolation=cv2.INTER_LINEAR)
    # Blur: defocus or a little motion.
    r = rng.random()
    if r < 0.2 * strength:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 1.2))
    elif r < 0.3 * strength:
        k = int(rng.integers(2, 4))
        kernel = np.zeros((k, k), np.float32)
        if rng.random() < 0.5:
            kernel[k // 2, :] = 1.0 / k
        else:
            kernel[:, k // 2] = 1.0 / k
        img = cv2.filter2D(img, -1, kernel)

    # Lighting: contrast, brightness, gamma, a gradient across the patch (side light).
    mean = float(img.mean())
    contrast = float(np.exp(rng.normal(0.0, 0.3 * strength)))
    img = (img - mean) * contrast + mean + rng.normal(0.0, 25.0 * strength)
    img = np.clip(img, 0, 255)
    if rng.random() < 0.5:
        gamma = float(np.exp(rng.normal(0.0, 0.35 * strength)))
        img = 255.0 * (img / 255.0) ** gamma
    # Exposure: a dark room (down to ~1/4 of the light, with the noise a high ISO brings) or
    # an overexposed, flash-lit face; without it the model calls dim open eyes closed.
    if rng.random() < 0.3 * strength:
        exposure = float(np.exp(rng.uniform(np.log(0.25), np.log(1.8))))
        img = img * exposure + (rng.uniform(0, 40) if exposure > 1 else 0.0)
        if exposure < 0.6:
            img = img + rng.normal(0.0, rng.uniform(1, 4), img.shape)
    if rng.random() < 0.3 * strength:
        ramp = np.linspace(-1, 1, size, dtype=np.float32)
        direction = rng.uniform(0, 2 * np.pi)
        grad = np.cos(direction) * ramp[None, :] + np.sin(direction) * ramp[:, None]
        img = img * (1.0 + 0.35 * rng.uniform(0, 1) * grad)

    # Sensor noise.
    if rng.random() < 0.4 * strength:
        img = img + rng.normal(0.0, rng.uniform(2, 10), img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)

    # JPEG artefacts.
    if rng.random() < 0.3 * strength:
        quality = int(rng.integers(25, 85))
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            img = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return np.ascontiguousarray(img)


def augment_batch(patches: np.ndarray, rng: np.random.Generator,
                  strength: float = 1.0) -> np.ndarray:
    return np.stack([augment_patch(p, rng, strength) for p in patches])
