"""`train` and `evaluate` as library calls: multi-class tasks, LoRA on a ViT with local
pretrained weights, and a linear probe — each end to end on tiny data written here."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import tifffile
import timm
import torch
from safetensors.torch import save_file

from scivit.evaluate.loader import load_trained
from scivit.evaluate.run import evaluate
from scivit.recipe import load_recipe
from scivit.train import train

CLASSES = ["no_substructure", "ring", "spots"]


def write_multiclass_set(root, per_class=16, size=32):
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    radius = np.hypot(yy - size / 2, xx - size / 2)
    rows = []
    for label in CLASSES:
        for index in range(per_class):
            image = rng.poisson(5, (size, size)).astype(np.float32)
            if label == "ring":
                image += 60 * np.exp(-((radius - 10) ** 2) / 2)
            elif label == "spots":
                for _ in range(4):
                    y, x = rng.integers(4, size - 4, 2)
                    image[y - 1 : y + 2, x - 1 : x + 2] += 80
            path = root / f"{label}_{index}.tif"
            tifffile.imwrite(path, image)
            rows.append((path.name, label))
    manifest = root / "manifest.csv"
    with open(manifest, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "labels"])
        writer.writerows(rows)
    return manifest


def common(tmp_path, manifest, name):
    return [
        f"data.manifest={manifest}",
        "data.num_workers=0",
        f"data.cache_dir={tmp_path}/c",
        f"train.out_dir={tmp_path}/runs",
        f"train.run_name={name}",
        "train.progress_bar=false",
        "data.batch_size=8",
        "data.task=multiclass",
        f"data.labels={CLASSES}",
        "data.split.fractions=[0.5, 0.25, 0.25]",
    ]


def test_multiclass_training_and_evaluation(tmp_path):
    manifest = write_multiclass_set(tmp_path)
    recipe = load_recipe(
        "scatter-resnet34",
        [
            *common(tmp_path, manifest, "mc"),
            "data.image_size=32",
            "data.preprocess=[{name: log}, {name: standardize}]",
            "data.in_chans=1",
            "model.in_chans=1",
            "data.augment=[]",
            "model.backbone=resnet18",
            "train.loss=ce",
            "train.max_epochs=6",
            "train.lr=3e-3",
            "train.loss_params={label_smoothing: 0.1}",
        ],
    )
    result = train(recipe)
    assert result.val_metrics["accuracy"] >= 0.5
    evaluation = evaluate(result.run_dir, split="test", progress=False)
    metrics = json.loads((evaluation.out_dir / "metrics.json").read_text())
    assert np.asarray(metrics["confusion_matrix"]).sum() == metrics["n_frames"]
    assert (evaluation.out_dir / "roc_curves.png").is_file()
    assert (evaluation.out_dir / "confusion_matrix.png").is_file()
    with open(evaluation.out_dir / "per_label.csv", newline="") as handle:
        per_label = list(csv.DictReader(handle))
    assert [row["label"] for row in per_label] == CLASSES
    assert "threshold" not in per_label[0]
    matrix = np.asarray(metrics["confusion_matrix"])
    for index, row in enumerate(per_label):
        assert int(row["support"]) == matrix[index].sum()
        assert float(row["recall"]) == pytest.approx(matrix[index, index] / matrix[index].sum())
        assert float(row["roc_auc"]) == pytest.approx(metrics["roc_auc"][CLASSES[index]])


def test_moving_average_weights_are_what_evaluation_loads(tmp_path):
    manifest = write_multiclass_set(tmp_path, per_class=8)
    recipe = load_recipe(
        "lensing-resnet18",
        [
            *common(tmp_path, manifest, "ema"),
            "data.image_size=32",
            "model.img_size=32",
            "train.max_epochs=2",
            "train.ema_decay=0.99",
        ],
    )
    result = train(recipe)
    state = torch.load(result.best_checkpoint, weights_only=True)
    trained = load_trained(result.run_dir).model.state_dict()
    name = "head.fc.weight"
    averaged = state["state_dict"][f"model.{name}"]
    assert torch.equal(trained[name], averaged)
    assert not torch.equal(state["current_model_state"][f"model.{name}"], averaged)
    evaluation = evaluate(result.run_dir, split="test", progress=False)
    assert json.loads((evaluation.out_dir / "metrics.json").read_text())["n_frames"] == 6


@pytest.fixture
def vit_weights(tmp_path):
    model = timm.create_model(
        "vit_small_patch14_dinov2", pretrained=False, num_classes=0, img_size=28
    )
    path = tmp_path / "dinov2_small.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    return path


@pytest.mark.parametrize("mode, most", [("lora", 0.05), ("probe", 0.01)])
def test_vit_adaptation_from_local_weights(tmp_path, vit_weights, mode, most):
    manifest = write_multiclass_set(tmp_path, per_class=8, size=28)
    recipe = load_recipe(
        "scatter-dinov2-lora",
        [
            *common(tmp_path, manifest, mode),
            "data.image_size=28",
            "model.img_size=28",
            f"model.pretrained={vit_weights}",
            f"model.adapt.mode={mode}",
            "train.loss=ce",
            "train.max_epochs=1",
            "data.augment=[]",
        ],
    )
    result = train(recipe)
    state = torch.load(result.best_checkpoint, weights_only=True)
    assert 0 < state["scivit"]["trainable_fraction"] < most
    trained = load_trained(result.run_dir)
    with torch.inference_mode():
        out = trained.model(torch.randn(2, 1, 28, 28))
    assert out.shape == (2, 3) and torch.isfinite(out).all()
