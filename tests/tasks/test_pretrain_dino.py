"""The DINO method: the teacher starts as the student, gets no gradient, follows it by EMA on a
cosine momentum schedule; the head's last layer is frozen in the first epoch; backbones take
global and local view sizes."""

import math

import pytest
import torch
from safetensors.torch import save_file

from scivit.errors import ModelError
from scivit.models.backbones import create_backbone
from scivit.models.dino import DINOMethod, DinoOptions, by_resolution
from scivit.tasks.pretrain import PRETRAIN_METHODS, PretrainModelConfig, create_view_backbone

OPTIONS = DinoOptions(out_dim=16, hidden_dim=32, bottleneck_dim=8)


def views(batch=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    sizes = [32, 32, 16, 16]
    return [torch.randn(batch, 1, size, size, generator=generator) for size in sizes]


@pytest.fixture(scope="module")
def vit_method():
    model = PretrainModelConfig(backbone="test_vit", drop_path_rate=0.0)
    return PRETRAIN_METHODS.get("dino").build(OPTIONS, model, 32)


def fresh_resnet_method():
    model = PretrainModelConfig(backbone="test_resnet")
    student = create_view_backbone(model, [32, 16])
    teacher = create_view_backbone(model, [32, 16], start=False)
    return DINOMethod(OPTIONS, student, teacher)


def pairs(method):
    network = method.network
    return [
        *zip(
            network.student_backbone.parameters(),
            network.teacher_backbone.parameters(),
            strict=True,
        ),
        *zip(network.student_head.parameters(), network.teacher_head.parameters(), strict=True),
    ]


def test_teacher_starts_as_the_student_and_gets_no_gradient():
    method = fresh_resnet_method()
    for student, teacher in pairs(method):
        assert torch.equal(student, teacher)
        assert not teacher.requires_grad
    method.training_loss(views(), epoch=1.5)["loss"].backward()
    network = method.network
    assert all(p.grad is None for p in network.teacher_backbone.parameters())
    assert all(p.grad is None for p in network.teacher_head.parameters())
    grads = [p.grad for p in network.student_backbone.parameters() if p.requires_grad]
    assert all(g is not None for g in grads) and sum(float(g.abs().sum()) for g in grads) > 0


def test_teacher_follows_the_student_by_ema():
    method = fresh_resnet_method()
    with torch.no_grad():
        for student, _ in pairs(method):
            student.add_(0.5)
    before = [(s.clone(), t.clone()) for s, t in pairs(method) if s.requires_grad]
    method.network.update_teacher(0.9)
    after = [t for s, t in pairs(method) if s.requires_grad]
    for (student, teacher), updated in zip(before, after, strict=True):
        torch.testing.assert_close(updated, 0.9 * teacher + 0.1 * student)


def test_momentum_follows_a_cosine_from_start_to_one():
    method = fresh_resnet_method()
    total = 11
    values = [method.after_optimizer_step(step, total)["momentum"] for step in range(total)]
    expected = [1 - 0.004 * (math.cos(math.pi * k / (total - 1)) + 1) / 2 for k in range(total)]
    assert values == pytest.approx(expected)
    assert values[0] == pytest.approx(0.996) and values[-1] == pytest.approx(1.0)


def test_last_layer_is_frozen_during_the_first_epoch_only(vit_method):
    last = list(vit_method.network.student_head.last_layer.parameters())
    for epoch, frozen in ((0, True), (1, False)):
        vit_method.zero_grad()
        vit_method.training_loss(views(), epoch=float(epoch))["loss"].backward()
        vit_method.after_backward(epoch)
        trainable = [p for p in last if p.requires_grad]
        assert trainable
        assert all((p.grad is None) == frozen for p in trainable)


def test_loss_logs_the_teacher_temperature(vit_method):
    terms = vit_method.training_loss(views(), epoch=0.0)
    assert float(terms["teacher_temp"]) == pytest.approx(0.04)
    loss = float(terms["loss"].detach())
    assert math.isfinite(loss) and loss > 0


def test_views_of_equal_size_run_as_one_batch():
    groups = by_resolution(views())
    assert [len(group) for group in groups] == [2, 2]
    outputs = fresh_resnet_method().network.student_outputs(views(batch=2))
    assert [tuple(out.shape) for out in outputs] == [(2, 16)] * 4


def test_vit_takes_global_and_local_sizes_and_features_are_the_teachers(vit_method):
    backbone = vit_method.export_backbone()
    assert backbone is vit_method.network.teacher_backbone
    images = torch.randn(2, 1, 32, 32)
    vit_method.eval()
    features = vit_method.features(images)
    assert features.shape == (2, backbone.num_features)
    torch.testing.assert_close(
        features, backbone.forward_head(backbone.forward_features(images), pre_logits=True)
    )


def test_backbone_that_fixes_its_input_size_is_refused_with_a_message():
    model = PretrainModelConfig(backbone="levit_128s")
    with pytest.raises(ModelError, match="'levit_128s' cannot take 16-px views"):
        create_view_backbone(model, [32, 16])


def test_student_starts_from_a_weights_file_and_the_teacher_copies_it(tmp_path):
    source = create_backbone("test_vit", in_chans=1, img_size=32)
    path = tmp_path / "start.safetensors"
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, path)
    model = PretrainModelConfig(backbone="test_vit", pretrained=str(path))
    method = PRETRAIN_METHODS.get("dino").build(OPTIONS, model, 32)
    expected = source.state_dict()
    for network in (method.network.student_backbone, method.network.teacher_backbone):
        state = network.state_dict()
        assert all(torch.equal(state[k], expected[k]) for k in expected)


def test_architecture_options_reach_student_and_teacher():
    model = PretrainModelConfig(backbone="vit_tiny_patch16_224", options={"patch_size": 8})
    for start in (True, False):
        backbone = create_view_backbone(model, [32, 16], start=start)
        assert tuple(backbone.patch_embed.patch_size) == (8, 8)
        assert backbone.forward_features(torch.zeros(1, 1, 16, 16)).shape[1] == 4 + 1
