"""DINO self-distillation loss (Caron et al., "Emerging Properties in Self-Supervised Vision
Transformers", ICCV 2021) with the linear warm-up of the teacher temperature.

For teacher outputs ``t_v`` of the global views and student outputs ``s_w`` of all views, the
loss is the cross-entropy between the teacher's centred, sharpened softmax and the student's:

    P_t = softmax((t_v - c) / tau_t),   log P_s = log_softmax(s_w / tau_s),
    L = mean over pairs (v, w), v != w, and over the batch of  -sum_k P_t[k] log P_s[k],

and after each call the centre follows the teacher's batch mean,
``c <- m c + (1 - m) mean(t)`` (Eqs. 1-4 of the paper; the mean is all-reduced across
processes). lightly's `DINOLoss` computes both; this module adds the temperature schedule
(tau_t rises linearly from `warmup_teacher_temp` to `teacher_temp` over
`warmup_teacher_temp_epochs`, measured in fractional epochs), detaches the teacher outputs
(no gradient reaches the teacher, as in the authors' code) and scalar-only options.
Views are matched by position: teacher view i and student view i are the same crop.

`collapse_signals` gives the two numbers the paper watches for collapse (its Sec. 5.3): the
entropy h of the teacher's distribution and the KL divergence between teacher and student
(the loss minus h). Collapse to a uniform output drives h to ln K and the KL to 0; collapse to
one dominant prototype drives h to 0 and the KL to 0; learning keeps h well below ln K and the
KL above 0.
"""

from __future__ import annotations

import torch
from lightly.loss import DINOLoss as LightlyDINOLoss
from torch import nn

from scivit.losses._checks import check_range


def teacher_temperature(epoch: float, start: float, end: float, warmup_epochs: float) -> float:
    """The teacher temperature after `epoch` (fractional) epochs of a linear warm-up."""
    if warmup_epochs <= 0 or epoch >= warmup_epochs:
        return end
    return start + (end - start) * max(epoch, 0.0) / warmup_epochs


class DINOLoss(nn.Module):
    """Cross-entropy between centred, sharpened teacher and student distributions.

    Args:
        out_dim: number of prototypes K (the projection head's output width).
        student_temp: student temperature tau_s.
        teacher_temp: teacher temperature tau_t after the warm-up.
        warmup_teacher_temp: teacher temperature at the start.
        warmup_teacher_temp_epochs: length of the linear warm-up in epochs (0: none).
        center_momentum: momentum m of the centre's moving average.
    """

    def __init__(
        self,
        out_dim: int,
        student_temp: float = 0.1,
        teacher_temp: float = 0.04,
        warmup_teacher_temp: float = 0.04,
        warmup_teacher_temp_epochs: float = 0.0,
        center_momentum: float = 0.9,
    ) -> None:
        super().__init__()
        check_range("out_dim", out_dim, 1, float("inf"))
        for name, value in (
            ("student_temp", student_temp),
            ("teacher_temp", teacher_temp),
            ("warmup_teacher_temp", warmup_teacher_temp),
        ):
            check_range(name, value, 1e-6, 10.0)
        check_range("warmup_teacher_temp_epochs", warmup_teacher_temp_epochs, 0.0, float("inf"))
        check_range("center_momentum", center_momentum, 0.0, 1.0)
        self.schedule = (warmup_teacher_temp, teacher_temp, warmup_teacher_temp_epochs)
        self.loss = LightlyDINOLoss(
            output_dim=out_dim,
            teacher_temp=teacher_temp,
            student_temp=student_temp,
            warmup_teacher_temp_epochs=0,
            center_momentum=center_momentum,
        )

    @property
    def center(self) -> torch.Tensor:
        """The current centre c, shape (K,)."""
        return self.loss.center.reshape(-1)

    def temperature(self, epoch: float) -> float:
        """The teacher temperature at `epoch` (fractional)."""
        start, end, warmup = self.schedule
        return teacher_temperature(epoch, start, end, warmup)

    def teacher_entropy(self, teacher_out: list[torch.Tensor], epoch: float) -> torch.Tensor:
        """Mean entropy (nats) of the centred, sharpened teacher distributions, with the centre
        as it is before the next call updates it."""
        logits = torch.stack([t.detach().float() for t in teacher_out]) - self.loss.center
        log_probs = torch.log_softmax(logits / self.temperature(epoch), dim=-1)
        return -(log_probs.exp() * log_probs).sum(-1).mean()

    def forward(
        self, teacher_out: list[torch.Tensor], student_out: list[torch.Tensor], epoch: float
    ) -> torch.Tensor:
        """The loss of one batch; updates the centre with the teacher outputs.

        Args:
            teacher_out: one (B, K) tensor per global view.
            student_out: one (B, K) tensor per view, the global views first, in the same order.
            epoch: training progress in (fractional) epochs, for the temperature.
        """
        if len(student_out) < len(teacher_out) or len(student_out) < 2:
            raise ValueError(
                f"DINO needs at least two views and every teacher view among the student's; "
                f"got {len(teacher_out)} teacher and {len(student_out)} student views"
            )
        return self.loss(
            [t.detach().float() for t in teacher_out],
            [s.float() for s in student_out],
            teacher_temp=self.temperature(epoch),
        )
