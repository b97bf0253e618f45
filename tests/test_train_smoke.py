"""A few training steps on a tiny subset give a loadable full-integer int8 model."""

from __future__ import annotations

import needs
import numpy as np
import pytest


@pytest.fixture(autouse=True)
def tensorflow():
    needs.module("tensorflow", "pip install -e '.[train]' (TensorFlow, for training only)")


def test_smoke_training_exports_a_loadable_int8_model(shared_data, tmp_path):
    from eyespy_live.train.__main__ import main
    from eyespy_live.train.infer import TFLiteScorer
    from eyespy_live.vision.eyestate import EyeStateModel

    out = tmp_path / "models"
    code = main(["--data", str(shared_data), "--out", str(out), "--cache", str(tmp_path / "c"),
                 "--sources", "cew_patches", "--limit", "32", "--epochs", "1", "--steps", "3",
                 "--no-eval", "--quiet"])
    assert code == 0
    model_path = out / "eye_state_int8.tflite"
    assert 0 < model_path.stat().st_size <= 100_000
    scorer = TFLiteScorer(model_path)
    assert scorer.in_dtype == np.int8 and scorer.size == 24
    detail = scorer.interpreter.get_output_details()[0]
    assert detail["dtype"] == np.int8 and list(detail["shape"]) == [1, 1]
    p = EyeStateModel(model_path).p_closed(np.full((24, 24), 90, np.uint8))
    assert 0.0 <= p <= 1.0
    # the float twin is written to the work folder for side-by-side reporting
    assert (tmp_path / "c" / "eye_state_float32.tflite").is_file()


def test_the_same_seed_and_data_give_the_same_model(shared_data, tmp_path):
    """Same answers to the last bit. (Run as two commands the files are byte-identical; in
    one process Keras numbers its layer names on, which only changes the names.)"""
    from eyespy_live.train.__main__ import main
    from eyespy_live.train.data import load_cew_patches
    from eyespy_live.train.infer import TFLiteScorer

    sample = load_cew_patches(shared_data).patches[::40]
    answers = []
    for run in ("a", "b"):
        out = tmp_path / run
        assert main(["--data", str(shared_data), "--out", str(out), "--cache",
                     str(tmp_path / "cache"), "--work", str(out), "--sources", "cew_patches",
                     "--limit", "32", "--epochs", "1", "--steps", "3", "--no-eval",
                     "--quiet"]) == 0
        answers.append(TFLiteScorer(out / "eye_state_int8.tflite").score(sample))
    assert len(sample) > 50 and np.array_equal(answers[0], answers[1])


def test_a_teacher_is_trained_saved_and_reused(shared_data, tmp_path):
    """`--teacher-layout` trains the larger model first and keeps it; `--teacher` reuses it."""
    from eyespy_live.train.__main__ import main

    common = ["--data", str(shared_data), "--cache", str(tmp_path / "cache"), "--sources",
              "cew_patches", "--limit", "32", "--epochs", "1", "--steps", "2", "--no-eval",
              "--quiet"]
    work = tmp_path / "work"
    assert main([*common, "--out", str(tmp_path / "a"), "--work", str(work),
                 "--teacher-layout", "8,p,8", "--teacher-epochs", "1"]) == 0
    assert (work / "teacher.keras").is_file()
    assert main([*common, "--out", str(tmp_path / "b"), "--work", str(tmp_path / "w2"),
                 "--teacher", str(work / "teacher.keras")]) == 0
    assert (tmp_path / "b" / "eye_state_int8.tflite").is_file()


def test_the_student_learns_what_the_teacher_says():
    """With the hard labels weighted 0, a teacher that calls every patch closed is all the
    student hears: after a short run it calls open and closed patches alike closed."""
    import tensorflow as tf

    from eyespy_live.train.model import TrainConfig, predict_float, train_model

    inputs = tf.keras.Input((24, 24, 1))
    always_closed = tf.keras.Model(inputs, tf.keras.layers.Lambda(
        lambda t: tf.ones_like(t[:, :1, 0, 0]))(inputs))
    rng = np.random.default_rng(0)
    patches = rng.integers(0, 255, (64, 24, 24), dtype=np.uint8)
    labels = np.zeros(64, np.int64)  # every hard label says "open"
    config = TrainConfig(epochs=1, steps_per_epoch=40, layout=(4, "p", 8), label_weight=0.0,
                         verbose=0)
    student = train_model(patches, labels, config, teacher=always_closed)
    assert (predict_float(student, patches) > 0.5).all()


def test_an_ensemble_exports_as_one_int8_graph_giving_the_members_mean(tmp_path):
    """Two members fixed at P 0.1 and 0.7 (zero kernel, bias = logit): the exported graph
    keeps the single model's contract and answers their mean, 0.4, for any patch."""
    from eyespy_live.train.infer import TFLiteScorer
    from eyespy_live.train.model import build_model, ensemble_model, export_int8

    layout = (4, "p", 8)
    members = []
    for p in (0.1, 0.7):
        member = build_model(layout)
        kernel, _ = member.get_layer("p_closed").get_weights()
        member.get_layer("p_closed").set_weights([np.zeros_like(kernel),
                                                  np.array([np.log(p / (1 - p))], np.float32)])
        members.append(member)
    rng = np.random.default_rng(0)
    patches = rng.integers(0, 255, (40, 24, 24), dtype=np.uint8)
    path = tmp_path / "ensemble.tflite"
    export_int8(ensemble_model(members, layout), patches, path)
    scorer = TFLiteScorer(path)
    assert scorer.in_dtype == np.int8 and scorer.size == 24
    detail = scorer.interpreter.get_output_details()[0]
    assert detail["dtype"] == np.int8 and list(detail["shape"]) == [1, 1]
    assert np.allclose(scorer.score(patches[:10]), 0.4, atol=0.01)
