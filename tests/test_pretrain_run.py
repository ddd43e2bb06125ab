"""`pretrain` end to end on simulated frames: checkpoints, logs with monitoring scores, the
resolved recipe, a resume that keeps the EMA teacher and loss centre, and the exported
teacher backbone loaded by the classifier."""

import csv

import lightning as L
import pytest
import torch
import yaml
from safetensors import safe_open
from safetensors.torch import load_file

from scivit.models.classifier import ModelConfig, build_classifier
from scivit.pretrain import load_pretrain_recipe, pretrain, pretrain_recipe_from_dict
from scivit.simulate import SCATTERING_TAGS, simulate_scattering

TEACHER = "method.network.teacher_backbone."
STUDENT = "method.network.student_backbone."


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    root = tmp_path_factory.mktemp("pretrain")
    unlabelled = simulate_scattering(root / "u", n=12, size=48, unlabelled=True, progress=False)
    labelled = simulate_scattering(root / "l", n=16, size=48, seed=1, progress=False)
    return root, unlabelled, labelled


def recipe(frames, epochs):
    root, unlabelled, labelled = frames
    monitor = (
        f"monitor={{manifest: {labelled}, labels: {list(SCATTERING_TAGS)}, k: 3, "
        "split: {fractions: [0.5, 0.25, 0.25]}}"
    )
    return load_pretrain_recipe(
        "scatter-dino-pretrain",
        [
            f"data.source={unlabelled}",
            "data.image_size=48",
            "data.batch_size=4",
            "data.num_workers=0",
            f"data.cache_dir={root}/cache",
            "model.backbone=test_vit",
            "model.pretrained=null",
            "model.img_size=null",
            "model.drop_path_rate=0.0",
            "method.out_dim=64",
            "method.hidden_dim=64",
            "method.bottleneck_dim=32",
            "method.views.global_size=32",
            "method.views.local_size=16",
            "method.views.n_local=2",
            f"train.max_epochs={epochs}",
            "train.precision=32-true",
            "train.accelerator=cpu",
            "train.progress_bar=false",
            "train.log_every_n_steps=1",
            "train.checkpoint_every_n_epochs=1",
            f"train.out_dir={root}/runs",
            "train.run_name=dino",
            monitor,
        ],
    )


class TeacherAtStart(L.Callback):
    """Records the teacher, the loss centre and the step when training (re)starts."""

    def on_train_start(self, trainer, pl_module):
        network = pl_module.method.network
        self.teacher = {k: v.clone() for k, v in network.teacher_backbone.state_dict().items()}
        self.center = pl_module.method.loss.center.clone()
        self.step = trainer.global_step


def backbone_of(state_dict, prefix):
    return {k[len(prefix) :]: v for k, v in state_dict.items() if k.startswith(prefix)}


def read_metrics(run_dir, version):
    with open(run_dir / "logs" / f"version_{version}" / "metrics.csv") as handle:
        return list(csv.DictReader(handle))


def test_pretrain_resume_and_export(frames):
    first_recipe = recipe(frames, epochs=1)
    first = pretrain(first_recipe)
    run = first.run_dir
    assert (run / "checkpoints" / "epoch000.ckpt").is_file()
    saved = torch.load(first.checkpoint, map_location="cpu", weights_only=True)
    assert saved["global_step"] == 3 and saved["scivit"]["task"] == "pretrain"
    assert saved["scivit"]["recipe"] == first_recipe.model_dump(mode="json")
    teacher = backbone_of(saved["state_dict"], TEACHER)
    student = backbone_of(saved["state_dict"], STUDENT)
    assert teacher.keys() == student.keys()
    assert any(not torch.equal(teacher[k], student[k]) for k in teacher)
    center = saved["state_dict"]["method.loss.loss.center"].reshape(-1)
    assert center.abs().sum() > 0

    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config.pop("provenance")["seed"] == 0
    assert pretrain_recipe_from_dict(config) == first_recipe

    rows = read_metrics(run, 0)
    momentum = [float(r["train/momentum"]) for r in rows if r.get("train/momentum")]
    assert momentum[0] == pytest.approx(0.996) and momentum == sorted(momentum)
    epoch_rows = [r for r in rows if r.get("monitor/knn_f1_macro")]
    assert len(epoch_rows) == 1
    for key in ("monitor/knn_f1_macro", "monitor/knn_mAP", "monitor/probe_f1_macro"):
        assert 0.0 <= float(epoch_rows[0][key]) <= 1.0
    assert float(epoch_rows[0]["train/loss_epoch"]) > 0
    start_rows = [r for r in rows if r.get("monitor/start_knn_f1_macro")]
    assert len(start_rows) == 1 and 0.0 <= float(start_rows[0]["monitor/start_probe_mAP"]) <= 1

    exported = load_file(first.backbone)
    assert exported.keys() == teacher.keys()
    assert all(torch.equal(exported[k], teacher[k]) for k in teacher)

    at_start = TeacherAtStart()
    second = pretrain(recipe(frames, epochs=2), callbacks=[at_start])
    assert at_start.step == 3
    assert all(torch.equal(at_start.teacher[k], teacher[k]) for k in teacher)
    torch.testing.assert_close(at_start.center, center)
    resumed = torch.load(second.checkpoint, map_location="cpu", weights_only=True)
    assert resumed["global_step"] == 6 and (run / "checkpoints" / "epoch001.ckpt").is_file()
    resumed_rows = read_metrics(run, 1)
    assert len([r for r in resumed_rows if r.get("monitor/knn_f1_macro")]) == 1
    assert not any(r.get("monitor/start_knn_f1_macro") for r in resumed_rows)

    with safe_open(second.backbone, "pt") as handle:
        assert handle.metadata()["backbone"] == "test_vit"
        assert handle.metadata()["img_size"] == "32"
    final_teacher = backbone_of(resumed["state_dict"], TEACHER)
    model = ModelConfig(backbone="test_vit", pretrained=str(second.backbone), img_size=32)
    classifier = build_classifier(model, num_outputs=len(SCATTERING_TAGS))
    loaded = classifier.backbone.state_dict()
    assert loaded.keys() == final_teacher.keys()
    assert all(torch.equal(loaded[k], final_teacher[k]) for k in loaded)
