"""The small CNN, its training loop and the full-integer int8 export (needs TensorFlow).

Only `eyespy_live.train` imports this module; runtime code never does.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eyespy_live.train.augment import augment_batch
from eyespy_live.train.model_layout import DEFAULT_LAYOUT
from eyespy_live.vision.eyecrop import PATCH_SIZE


def _tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf


def set_seeds(seed: int) -> None:
    tf = _tf()
    tf.keras.utils.set_random_seed(seed)
    with contextlib.suppress(Exception):  # older TF builds lack it; seeds still apply
        tf.config.experimental.enable_op_determinism()


def build_model(layout: tuple = DEFAULT_LAYOUT, dropout: float = 0.2, name: str = "eye_state"):
    """3×3 conv (or "dN": depthwise 3×3 then 1×1 to N) + batch-norm + ReLU stages, global
    average pooling, one sigmoid unit."""
    tf = _tf()
    layers = tf.keras.layers
    inputs = tf.keras.Input((PATCH_SIZE, PATCH_SIZE, 1), name="patch")
    x = inputs
    for step in layout:
        if step == "p":
            x = layers.MaxPooling2D()(x)
            continue
        if step == "s":  # 2×2 pixel blocks into 4 channels: the first conv then runs at half
            # the resolution on 4 channels, which int8 kernels do far faster than 1 channel
            x = layers.Lambda(lambda t: tf.nn.space_to_depth(t, 2), name="space_to_depth")(x)
            continue
        if str(step).startswith("d"):  # depthwise-separable: ~1/8 of a full conv's cost
            x = layers.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
            x = layers.Conv2D(int(str(step)[1:]), 1, use_bias=False)(x)
        else:
            x = layers.Conv2D(int(step), 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling2D()(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(1, activation="sigmoid", name="p_closed")(x)
    return tf.keras.Model(inputs, outputs, name=name)


def ensemble_model(members: list, layout: tuple = DEFAULT_LAYOUT):
    """One Keras graph whose output is the mean of the members' P(closed).

    Exported as one full-integer .tflite with the single model's contract ([1,24,24,1] int8
    in, [1,1] int8 out), so the runtime needs no change. Seed copies of the small net
    disagree on the borderline patches (squints, half blinks), and their mean is less
    noisy there than any one of them: a cheap cut in variance, where width did not help.
    """
    if len(members) == 1:
        return members[0]
    tf = _tf()
    inputs = tf.keras.Input((PATCH_SIZE, PATCH_SIZE, 1), name="patch")
    outs = []
    for k, member in enumerate(members):
        copy = build_model(layout, dropout=0.0, name=f"member_{k}")  # dropout: training only
        copy.set_weights([w for w in member.get_weights()])
        outs.append(copy(inputs))
    outputs = tf.keras.layers.Average(name="p_closed_mean")(outs)
    return tf.keras.Model(inputs, outputs, name="eye_state_ensemble")


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 3e-3
    seed: int = 1234
    augment_strength: float = 0.6
    layout: tuple = DEFAULT_LAYOUT
    steps_per_epoch: int | None = None  # None: one pass over the training data
    verbose: int = 2
    dropout: float = 0.2
    # Distillation: the share of the hard label in the target; the rest is the teacher's
    # P(closed) on the same augmented patch (only used when a teacher is given).
    label_weight: float = 0.5
    # Exponential moving average of the weights (Adam's `use_ema`), swapped in at the end of
    # training; 0: off.
    ema: float = 0.0


def to_input(patches: np.ndarray) -> np.ndarray:
    return (patches.astype(np.float32) / 255.0)[..., None]


def train_model(x_train: np.ndarray, y_train: np.ndarray, config: TrainConfig,
                x_val: np.ndarray | None = None, y_val: np.ndarray | None = None,
                sample_weight: np.ndarray | None = None, teacher=None):
    """Train on uint8 patches with fresh augmentation every epoch; returns the Keras model.

    With a `teacher` (a larger trained Keras model) the targets are softened by what it says
    about each augmented patch: the small model learns which patches are borderline (a
    squint, a blurred half blink) instead of only the hard 0/1 label.
    """
    tf = _tf()
    set_seeds(config.seed)
    model = build_model(config.layout, config.dropout)
    steps = config.steps_per_epoch or max(1, int(np.ceil(len(x_train) / config.batch_size)))
    schedule = tf.keras.optimizers.schedules.CosineDecay(
        config.learning_rate, decay_steps=max(1, steps * config.epochs), alpha=0.02)
    optimizer = (tf.keras.optimizers.Adam(schedule, use_ema=True, ema_momentum=config.ema)
                 if config.ema else tf.keras.optimizers.Adam(schedule))
    model.compile(optimizer=optimizer,
                  loss=tf.keras.losses.BinaryCrossentropy(
                      label_smoothing=0.02 if teacher is None else 0.0),
                  metrics=["accuracy", tf.keras.metrics.AUC(name="auc")])
    rng = np.random.default_rng(config.seed)
    weights = (np.ones(len(x_train), np.float64) if sample_weight is None
               else np.asarray(sample_weight, np.float64))
    probs = weights / weights.sum()

    def batches():
        while True:
            idx = rng.choice(len(x_train), size=config.batch_size, p=probs)
            xb = to_input(augment_batch(x_train[idx], rng, config.augment_strength))
            yb = y_train[idx].astype(np.float32)[:, None]
            if teacher is not None:
                soft = teacher(xb, training=False).numpy()
                yb = config.label_weight * yb + (1.0 - config.label_weight) * soft
            yield xb, yb

    signature = (tf.TensorSpec((None, PATCH_SIZE, PATCH_SIZE, 1), tf.float32),
                 tf.TensorSpec((None, 1), tf.float32))
    dataset = tf.data.Dataset.from_generator(batches, output_signature=signature)
    validation = None
    if x_val is not None and len(x_val):
        validation = (to_input(x_val), y_val.astype(np.float32)[:, None])
    model.fit(dataset, epochs=config.epochs, steps_per_epoch=steps,
              validation_data=validation, verbose=config.verbose)
    return model


def save_model(model, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)


def load_model(path: Path):
    return _tf().keras.models.load_model(Path(path), compile=False)


def predict_float(model, patches: np.ndarray) -> np.ndarray:
    return model.predict(to_input(patches), batch_size=512, verbose=0).reshape(-1)


def export_int8(model, representative: np.ndarray, path: Path, seed: int = 0) -> bytes:
    """Full-integer conversion: int8 input (pixel/255) and int8 output (P(closed))."""
    tf = _tf()
    rng = np.random.default_rng(seed)
    chosen = representative[rng.permutation(len(representative))[:500]]

    def samples():
        for patch in chosen:
            yield [to_input(patch[None])]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = samples
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    blob = converter.convert()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(blob)
    return blob


def export_float(model, path: Path) -> bytes:
    """The same network as a float32 .tflite, for reporting beside the int8 model."""
    tf = _tf()
    blob = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(blob)
    return blob
