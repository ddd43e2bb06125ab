"""ClassifyTask: losses by task kind, probabilities, metrics and checkpoint extras."""

import numpy as np
import pytest
import torch

from scivit.models.classifier import ModelConfig, build_classifier
from scivit.tasks.classify import ClassifyTask, TrainConfig, outputs_to_probs, summary_metrics


def test_probabilities_follow_task_kind():
    logits = torch.tensor([[0.0, 2.0], [1.0, -1.0]])
    assert torch.allclose(outputs_to_probs(logits, "multilabel"), torch.sigmoid(logits))
    assert torch.allclose(outputs_to_probs(logits, "multiclass").sum(dim=1), torch.ones(2))


def test_default_loss_and_monitor_per_task():
    cfg = TrainConfig()
    assert cfg.loss_name("multilabel") == "bce" and cfg.loss_name("multiclass") == "ce"
    assert cfg.monitor_metric("multilabel") == "val/mAP"
    assert cfg.monitor_metric("multiclass") == "val/f1_macro"


@pytest.mark.parametrize("task", ["multilabel", "multiclass"])
def test_training_step_gives_finite_loss_and_gradients(task):
    torch.manual_seed(0)
    model = build_classifier(ModelConfig(backbone="resnet18"), 3)
    module = ClassifyTask(model, ["a", "b", "c"], task, TrainConfig())
    images = torch.randn(4, 1, 32, 32)
    targets = torch.eye(3)[[0, 1, 2, 0]]
    if task == "multilabel":
        targets = (torch.rand(4, 3) > 0.5).float()
    loss = module.training_step((images, targets), 0)
    loss.backward()
    assert torch.isfinite(loss)
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_summary_metrics_multiclass_uses_argmax_of_one_hot_targets():
    probs = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    targets = np.array([[1, 0], [0, 1], [0, 1]], dtype=np.float32)
    metrics = summary_metrics(probs, targets, "multiclass", ["x", "y"])
    assert metrics["accuracy"] == pytest.approx(2 / 3)


def test_checkpoint_carries_labels_task_and_extras():
    model = build_classifier(ModelConfig(backbone="resnet18"), 2)
    module = ClassifyTask(model, ["x", "y"], "multilabel", TrainConfig())
    module.checkpoint_extras = {"recipe": {"name": "r"}}
    checkpoint: dict = {}
    module.on_save_checkpoint(checkpoint)
    assert checkpoint["scivit"] == {
        "recipe": {"name": "r"},
        "task": "multilabel",
        "label_names": ["x", "y"],
    }


@pytest.mark.parametrize(
    ("backbone", "channels_last"),
    [("resnet18", True), ("resnet18", False), ("lens_c8_resnet", True)],
)
def test_channels_last_layout_changes_speed_not_results(backbone, channels_last):
    torch.manual_seed(0)
    cfg = ModelConfig(backbone=backbone, in_chans=2, img_size=32)
    model = build_classifier(cfg, 3).eval()
    images = torch.randn(2, 2, 32, 32)
    with torch.no_grad():
        reference = model(images)
    train = TrainConfig(channels_last=channels_last)
    module = ClassifyTask(model, ["a", "b", "c"], "multilabel", train)
    module.configure_model()
    convs = [p for p in model.parameters() if p.dim() == 4 and min(p.shape[1:]) > 1]
    assert convs and all(
        p.is_contiguous(memory_format=torch.channels_last) == channels_last for p in convs
    )
    with torch.no_grad():
        torch.testing.assert_close(module(images), reference, rtol=1e-4, atol=1e-4)
