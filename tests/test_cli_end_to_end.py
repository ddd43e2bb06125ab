"""The `scivit` command end to end on a tiny simulated dataset: simulate, train, evaluate,
predict, inspect, list — asserting on the files and numbers produced."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
import yaml

from scivit.checkpoint import CHECKPOINT_KEY, load_checkpoint_dict, save_checkpoint_dict
from scivit.cli import main
from scivit.data.datamodule import eval_transform
from scivit.data.dataset import FrameDataset
from scivit.evaluate.loader import load_trained
from scivit.evaluate.numerics import autocast_dtype
from scivit.evaluate.run import select_rows
from scivit.simulate.scattering_labels import SCATTERING_TAGS

N_FRAMES = 96


def tiny_overrides(root, manifest) -> list[str]:
    return [
        f"data.manifest={manifest}",
        "data.image_size=32",
        "data.batch_size=16",
        "data.num_workers=0",
        f"data.cache_dir={root / 'cache'}",
        "model.backbone=resnet18",
        "train.max_epochs=2",
        f"train.out_dir={root / 'runs'}",
        "train.progress_bar=false",
        "train.run_name=tiny",
    ]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    code = main(
        [
            "simulate",
            "scattering",
            "--out",
            str(root / "data"),
            "--n",
            str(N_FRAMES),
            "--size",
            "64",
            "--workers",
            "1",
            "--progress",
            "false",
        ]
    )
    assert code == 0
    manifest = root / "data" / "manifest.csv"
    code = main(["train", "scatter-resnet34", *tiny_overrides(root, manifest)])
    assert code == 0
    return root, manifest, root / "runs" / "tiny"


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_simulate_writes_manifest_with_known_tags(workspace):
    _, manifest, _ = workspace
    rows = read_csv(manifest)
    assert len(rows) == N_FRAMES
    used = {tag for row in rows for tag in row["labels"].split(";") if tag}
    assert used <= set(SCATTERING_TAGS)


def test_train_writes_run_folder(workspace):
    _, _, run = workspace
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["model"]["backbone"] == "resnet18"
    assert len(config["provenance"]["data_sha256"]) == 64
    assert config["provenance"]["packages"]["torch"].startswith("2.14.1")
    assert (run / "checkpoints" / "best.ckpt").is_file()
    assert (run / "checkpoints" / "last.ckpt").is_file()
    epochs = {row["epoch"] for row in read_csv(run / "logs" / "version_0" / "metrics.csv")}
    assert {"0", "1"} <= epochs
    assert list((run / "tensorboard" / "version_0").glob("events.out.tfevents.*"))
    state = torch.load(run / "checkpoints" / "best.ckpt", weights_only=True)
    thresholds = np.array(state["scivit"]["thresholds"])
    assert thresholds.shape == (17,) and np.all((thresholds > 0) & (thresholds < 1))
    assert state["scivit"]["label_names"] == list(SCATTERING_TAGS)


def training_seconds(checkpoint) -> float:
    return torch.load(checkpoint, weights_only=True)["callbacks"]["TrainingClock"]["seconds"]


def test_train_resumes_from_last_checkpoint(workspace, capsys):
    root, manifest, run = workspace
    before = training_seconds(run / "checkpoints" / "last.ckpt")
    assert before > 0
    capsys.readouterr()
    code = main(
        ["train", "scatter-resnet34", *tiny_overrides(root, manifest), "train.max_epochs=3"]
    )
    assert code == 0
    after = training_seconds(run / "checkpoints" / "last.ckpt")
    assert after > before
    printed = capsys.readouterr().out.split("training time: ")[1]
    assert abs(float(printed.split(" min")[0]) - after / 60) <= 0.1
    resumed = read_csv(run / "logs" / "version_1" / "metrics.csv")
    resumed_epochs = {int(row["epoch"]) for row in resumed if row["epoch"]}
    assert max(resumed_epochs) == 2 and 0 not in resumed_epochs
    assert read_csv(run / "logs" / "version_0" / "metrics.csv")


def test_evaluate_writes_metrics_figures_and_report(workspace, capsys):
    root, _, run = workspace
    out = root / "eval"
    assert main(["evaluate", str(run), "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    for key in (
        "hamming_accuracy",
        "subset_accuracy",
        "f1_micro",
        "f1_macro",
        "f1_weighted",
        "mAP",
        "per_label",
    ):
        assert key in metrics
    assert 0.0 <= metrics["f1_macro"] <= 1.0
    per_label = read_csv(out / "per_label.csv")
    assert [row["label"] for row in per_label] == list(SCATTERING_TAGS)
    predictions = read_csv(out / "predictions.csv")
    assert len(predictions) == metrics["n_frames"] > 0
    for name in ("pr_curves.png", "label_confusions.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64") >= 3
    assert all(tag in html for tag in SCATTERING_TAGS)
    assert "report:" in capsys.readouterr().out


@pytest.mark.parametrize("chosen_by", ["recipe", "flag"])
def test_test_time_flips_average_the_four_mirror_images(workspace, chosen_by):
    root, _, run = workspace
    best = run / "checkpoints" / "best.ckpt"
    checkpoint, flag = best, ["--test-time-flips", "hv"]
    if chosen_by == "recipe":
        state = load_checkpoint_dict(best)
        state[CHECKPOINT_KEY]["recipe"]["model"]["test_time_flips"] = "hv"
        checkpoint, flag = root / "flips.ckpt", []
        save_checkpoint_dict(state, checkpoint)
    out = root / f"eval-flips-{chosen_by}"
    assert main(["evaluate", str(checkpoint), "--split", "all", "--out", str(out), *flag]) == 0
    assert json.loads((out / "metrics.json").read_text())["test_time_flips"] == "hv"
    rows = read_csv(out / "predictions.csv")[:4]
    trained = load_trained(best)
    transform = eval_transform(trained.recipe.data)
    manifest, _ = select_rows(trained, "all", None)
    dataset = FrameDataset(manifest, np.arange(4), transform)
    images = torch.stack([dataset[index][0] for index in range(4)])
    dtype = autocast_dtype(trained.recipe.train.precision, "cpu")
    with torch.inference_mode(), torch.autocast("cpu", dtype=dtype, enabled=dtype is not None):
        views = [images, images.flip(-1), images.flip(-2), images.flip(-2, -1)]
        logits = torch.stack([trained.model(view).float() for view in views]).mean(dim=0)
        plain = torch.sigmoid(trained.model(images).float())
    expected = torch.sigmoid(logits).numpy()
    written = np.array([[float(row[f"p_{tag}"]) for tag in SCATTERING_TAGS] for row in rows])
    np.testing.assert_allclose(written, expected, atol=2e-5)
    assert np.abs(written - plain.numpy()).max() > 1e-4


def test_evaluate_rejects_unknown_test_time_flips(workspace, capsys):
    root, _, run = workspace
    out = root / "eval-diagonal"
    code = main(["evaluate", str(run), "--out", str(out), "--test-time-flips", "diagonal"])
    assert code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'diagonal'" in err[0] and "hv" in err[0]
    assert not out.exists()


def test_predict_tags_every_frame_and_reports_bad_files(workspace, capsys):
    root, _, run = workspace
    bad = root / "bad"
    bad.mkdir()
    (bad / "broken.tif").write_bytes(b"not a tiff at all")
    out = root / "predictions.csv"
    code = main(["predict", str(run), str(root / "data"), str(bad), "--out", str(out)])
    assert code == 1
    rows = read_csv(out)
    assert len(rows) == N_FRAMES
    assert set(rows[0]) >= {"path", "frame", "tags", "p_BCC"}
    assert "broken.tif" in capsys.readouterr().err
    code = main(
        ["predict", str(run), str(bad), "--out", str(root / "p2.csv"), "--on-error", "fail"]
    )
    assert code == 2
    assert not (root / "p2.csv").exists()


def test_inspect_shows_frames_and_fails_cleanly(workspace, capsys):
    root, _, _ = workspace
    shard = sorted((root / "data").glob("*.h5"))[0]
    assert main(["inspect", str(shard)]) == 0
    out = capsys.readouterr().out
    assert "n_frames" in out and "format" in out
    assert main(["inspect", str(root / "missing.h5")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing.h5" in err[0]


def test_list_commands(capsys):
    assert main(["list", "recipes"]) == 0
    assert "scatter-resnet34" in capsys.readouterr().out.split()
    assert main(["list", "backbones", "--filter", "resnet3*"]) == 0
    assert "resnet34" in capsys.readouterr().out.split()
    assert main(["list", "simulators"]) == 0
    assert "scattering" in capsys.readouterr().out.split()
    assert main(["list", "backbone"]) == 2
    assert "did you mean 'backbones'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["train.max_epoch=3"], "did you mean 'train.max_epochs'"),
        (["model.backbone=resnet343"], "resnet34"),
        (["data.manifest=/nonexistent/manifest.csv"], "/nonexistent/manifest.csv"),
        (["model.pretrained=/nonexistent/weights.safetensors"], "weights.safetensors"),
        (["model.pretrained=hub", "model.backbone=resnet18"], "model.pretrained="),
    ],
)
def test_train_bad_input_is_one_line(workspace, capsys, overrides, message):
    root, manifest, _ = workspace
    code = main(
        [
            "train",
            "scatter-resnet34",
            *tiny_overrides(root, manifest),
            "train.run_name=bad",
            *overrides,
        ]
    )
    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    err = [line for line in lines if not line.startswith("scivit: warning:")]
    assert len(err) == 1 and err[0].startswith("scivit: error:") and message in err[0]


def test_simulate_unknown_option_suggests(tmp_path, capsys):
    code = main(["simulate", "scattering", "--out", str(tmp_path), "--n", "4", "--sise", "64"])
    assert code == 2
    assert "unknown option 'sise'; did you mean 'size'" in capsys.readouterr().err
