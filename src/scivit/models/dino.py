"""DINO: a student and an exponential-moving-average teacher, each a backbone plus projection
head (Caron et al., "Emerging Properties in Self-Supervised Vision Transformers", ICCV 2021).

The head is lightly's `DINOProjectionHead`: a 3-layer MLP, l2 normalisation and a
weight-normalised last layer with K outputs, whose gradients are cancelled during the first
`freeze_last_layer_epochs` epochs. The teacher starts as an exact copy of the student, never
receives gradients, sees only the global views and follows the student after every optimizer
step, ``theta_t <- m theta_t + (1 - m) theta_s``, with m rising from `momentum` to 1 on a
cosine schedule (lightly's `update_momentum` and `cosine_schedule`). `DINOMethod` adds the
loss (`scivit.losses.dino`) and is what the pretraining task drives.
"""

from __future__ import annotations

import warnings
from typing import Literal

import torch
from lightly.models.modules import DINOProjectionHead
from lightly.models.utils import deactivate_requires_grad, update_momentum
from lightly.utils.scheduler import cosine_schedule
from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt
from torch import nn

from scivit.config import StrictModel
from scivit.losses.dino import DINOLoss
from scivit.transforms.views import ViewOptions

GLOBAL_VIEWS = 2


class DinoOptions(StrictModel):
    """`method` section of a DINO recipe (defaults: the paper's ViT-S/16 settings)."""

    name: Literal["dino"] = "dino"
    out_dim: PositiveInt = 65536
    hidden_dim: PositiveInt = 2048
    bottleneck_dim: PositiveInt = 256
    head_batch_norm: bool = False
    norm_last_layer: bool = True
    freeze_last_layer_epochs: NonNegativeInt = 1
    student_temp: PositiveFloat = 0.1
    teacher_temp: PositiveFloat = 0.04
    warmup_teacher_temp: PositiveFloat = 0.04
    warmup_teacher_temp_epochs: float = Field(0.0, ge=0)
    center_momentum: float = Field(0.9, ge=0, lt=1)
    momentum: float = Field(0.996, ge=0, le=1)
    views: ViewOptions = Field(default_factory=ViewOptions)


def dino_head(in_dim: int, options: DinoOptions) -> DINOProjectionHead:
    """The projection head of `options` on `in_dim` backbone features."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r".*weight_norm.*deprecated", FutureWarning)
        return DINOProjectionHead(
            input_dim=in_dim,
            hidden_dim=options.hidden_dim,
            bottleneck_dim=options.bottleneck_dim,
            output_dim=options.out_dim,
            batch_norm=options.head_batch_norm,
            freeze_last_layer=options.freeze_last_layer_epochs,
            norm_last_layer=options.norm_last_layer,
        )


def embed(backbone: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Pooled features of a backbone with timm's interface."""
    return backbone.forward_head(backbone.forward_features(images), pre_logits=True)


def by_resolution(views: list[torch.Tensor]) -> list[list[torch.Tensor]]:
    """Consecutive views of equal size grouped, so each group runs as one batch."""
    groups: list[list[torch.Tensor]] = []
    for view in views:
        if groups and groups[-1][0].shape[-2:] == view.shape[-2:]:
            groups[-1].append(view)
        else:
            groups.append([view])
    return groups


class StudentTeacher(nn.Module):
    """Student backbone + head and their EMA teacher.

    Args:
        student: the backbone to train (timm interface).
        teacher: a backbone of the same architecture; its weights are replaced by the student's.
        options: head sizes and the last-layer freezing.
    """

    def __init__(self, student: nn.Module, teacher: nn.Module, options: DinoOptions) -> None:
        super().__init__()
        self.student_backbone = student
        self.student_head = dino_head(student.num_features, options)
        self.teacher_backbone = teacher
        self.teacher_head = dino_head(teacher.num_features, options)
        self.teacher_backbone.load_state_dict(student.state_dict())
        self.teacher_head.load_state_dict(self.student_head.state_dict())
        deactivate_requires_grad(self.teacher_backbone)
        deactivate_requires_grad(self.teacher_head)

    def student_outputs(self, views: list[torch.Tensor]) -> list[torch.Tensor]:
        """Head outputs (B, K) of the student for every view."""
        return self._outputs(self.student_backbone, self.student_head, views)

    @torch.no_grad()
    def teacher_outputs(self, views: list[torch.Tensor]) -> list[torch.Tensor]:
        """Head outputs (B, K) of the teacher for `views` (the global ones)."""
        return self._outputs(self.teacher_backbone, self.teacher_head, views)

    @torch.no_grad()
    def teacher_features(self, images: torch.Tensor) -> torch.Tensor:
        """The teacher backbone's pooled features (B, D)."""
        return embed(self.teacher_backbone, images)

    @torch.no_grad()
    def update_teacher(self, momentum: float) -> None:
        """``teacher <- momentum * teacher + (1 - momentum) * student`` for backbone and head."""
        update_momentum(self.student_backbone, self.teacher_backbone, momentum)
        update_momentum(self.student_head, self.teacher_head, momentum)

    def cancel_last_layer_gradients(self, epoch: int) -> None:
        """Drop the gradients of the head's last layer while `epoch` is a frozen one."""
        self.student_head.cancel_last_layer_gradients(epoch)

    @staticmethod
    def _outputs(
        backbone: nn.Module, head: nn.Module, views: list[torch.Tensor]
    ) -> list[torch.Tensor]:
        outputs: list[torch.Tensor] = []
        for group in by_resolution(views):
            out = head(embed(backbone, torch.cat(group)))
            outputs.extend(out.chunk(len(group)))
        return outputs


class DINOMethod(nn.Module):
    """DINO as the pretraining task drives it (see `scivit.tasks.pretrain.PretrainMethod`).

    Args:
        options: the method section of the recipe.
        student: the backbone to train.
        teacher: a second backbone of the same architecture (no stochastic depth).
    """

    backbone_file = "teacher_backbone.safetensors"

    def __init__(self, options: DinoOptions, student: nn.Module, teacher: nn.Module) -> None:
        super().__init__()
        self.options = options
        self.network = StudentTeacher(student, teacher, options)
        self.loss = DINOLoss(
            out_dim=options.out_dim,
            student_temp=options.student_temp,
            teacher_temp=options.teacher_temp,
            warmup_teacher_temp=options.warmup_teacher_temp,
            warmup_teacher_temp_epochs=options.warmup_teacher_temp_epochs,
            center_momentum=options.center_momentum,
        )

    def training_loss(self, views: list[torch.Tensor], epoch: float) -> dict[str, torch.Tensor]:
        """The loss of a batch of views (global views first) and the values worth logging."""
        teacher_out = self.network.teacher_outputs(views[:GLOBAL_VIEWS])
        student_out = self.network.student_outputs(views)
        entropy = self.loss.teacher_entropy(teacher_out, epoch)
        loss = self.loss(teacher_out, student_out, epoch)
        return {
            "loss": loss,
            "teacher_temp": torch.tensor(self.loss.temperature(epoch)),
            "teacher_entropy": entropy,
            "teacher_student_kl": loss.detach() - entropy,
        }

    def after_backward(self, epoch: int) -> None:
        """Cancel the last layer's gradients during the frozen epochs."""
        self.network.cancel_last_layer_gradients(epoch)

    def after_optimizer_step(self, step: int, total_steps: int) -> dict[str, float]:
        """Move the teacher towards the student with the momentum of optimizer step `step`."""
        momentum = cosine_schedule(step, total_steps, self.options.momentum, 1.0)
        self.network.update_teacher(momentum)
        return {"momentum": momentum}

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Teacher features of whole frames (what fine-tuning will start from)."""
        return self.network.teacher_features(images)

    def export_backbone(self) -> nn.Module:
        """The teacher backbone, without projection head."""
        return self.network.teacher_backbone
