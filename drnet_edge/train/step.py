"""``TrainStep``: one training step's forward (multi-resolution, plain, or joint with the predictor)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from ..models.drnet import DRNet, gumbel_choice, macs_penalty, set_resolution


class TrainStep(nn.Module):
    """One training step's forward as a single module call (so DDP sees one forward per backward).

    ``multi``/``plain``: every resolution, each with its own BN, losses averaged. With ``distill`` > 0
    (multi) each smaller resolution also learns the largest's prediction on the same image
    (``distill * KL(p_largest || p_k)``, teacher detached): in-place distillation, as in RS-Net
    (Wang et al., ECCV 2020: private BN per resolution plus distillation from the largest).
    ``joint``: Gumbel choice, then one of two forwards (``joint_forward``):

    * ``chosen``: the backbone runs each image at its chosen resolution only (batch split by
      resolution); the predictor gets the exact straight-through signal ``dL/dy_k = CE_k`` from every
      resolution's loss computed without gradient. Cheapest on a CPU.
    * ``all``: every image at every resolution, ``logits = sum_k y_k * logits_k`` (the paper's
      public implementation). The hard one-hot makes the forward value and the backbone gradients
      those of the chosen resolution only, and each BN still sees only its own resolution, but the
      tensor shapes stay fixed from step to step: on a GPU the split's changing group sizes make
      every step meet new shapes (observed: joint epochs 5-10x slower than multi-resolution ones).
    """

    def __init__(
        self,
        model: DRNet,
        macs_m: torch.Tensor,
        pred_macs: int,
        target_m: float,
        eta: float,
        tau: float,
        joint_forward: str = "chosen",
        distill: float = 0.0,
    ) -> None:
        super().__init__()
        if joint_forward not in ("chosen", "all"):
            raise ConfigError(f"--joint-forward must be auto, chosen or all, got {joint_forward!r}")
        self.model = model
        self.register_buffer("macs_m", macs_m.clone(), persistent=False)
        self.pred_macs_m, self.target_m, self.eta, self.tau = pred_macs / 1e6, target_m, eta, tau
        self.joint_forward = joint_forward
        self.distill = distill

    def forward(
        self, phase: str, xs: list[torch.Tensor], thumb: torch.Tensor, labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        backbone = self.model.backbone
        if phase in ("multi", "plain"):
            losses, top1, teacher = [], torch.zeros(()), None
            for k, x in enumerate(xs):
                set_resolution(backbone, k)
                logits = backbone(x)
                loss = F.cross_entropy(logits, labels, label_smoothing=0.1)
                if teacher is not None:
                    loss = loss + self.distill * distill_loss(logits, teacher)
                elif self.distill > 0:
                    teacher = logits.detach()
                losses.append(loss)
                top1 = (logits.argmax(1) == labels).float().mean()  # at the smallest (last) resolution
            return torch.stack(losses).mean(), top1, self.macs_m.mean()
        assert self.model.predictor is not None
        y = gumbel_choice(self.model.predictor(thumb), self.tau)
        choice = y.argmax(1)
        macs_loss, expected = macs_penalty(y, self.macs_m, self.pred_macs_m, self.target_m, self.eta)
        if self.joint_forward == "all":
            out = sum(y[:, k : k + 1] * self.model.backbone_at(x, k) for k, x in enumerate(xs))
            loss = F.cross_entropy(out, labels, label_smoothing=0.1) + macs_loss
            return loss, (out.argmax(1) == labels).float().mean(), expected.detach()
        with torch.no_grad():
            ce_all = torch.stack(
                [F.cross_entropy(self.model.backbone_at(x, k), labels, reduction="none") for k, x in enumerate(xs)], 1
            )
        out: torch.Tensor | None = None
        for k in choice.unique().tolist():
            idx = (choice == k).nonzero(as_tuple=True)[0]
            lg = self.model.backbone_at(xs[k][idx], k)
            out = (lg.new_zeros(len(choice), lg.shape[1]) if out is None else out).index_copy(0, idx, lg)
        assert out is not None
        scale = y.gather(1, choice[:, None])  # 1.0 in the forward pass; carries the soft gradient
        loss_ce = F.cross_entropy(out * scale, labels, label_smoothing=0.1)
        st = (y * ce_all).sum(1).mean()
        loss = loss_ce + (st - st.detach()) + macs_loss
        return loss, (out.argmax(1) == labels).float().mean(), expected.detach()


def distill_loss(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """KL(softmax(teacher) || softmax(student)), mean over the batch; no gradient to the teacher."""
    return F.kl_div(
        F.log_softmax(student, 1), F.log_softmax(teacher.detach(), 1), log_target=True, reduction="batchmean"
    )
