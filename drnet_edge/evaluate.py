"""Evaluate a backbone at several resolutions on an image folder, then score resolution policies.

Importing this module needs no PyTorch: converted artifacts (``runtime`` + ``artifacts``) are evaluated
without it; a checkpoint or a backbone imports it when it loads."""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .data.classes import ClassList, imagenet_classes
from .data.folders import ImageFolder, scan_folder
from .errors import ConfigError, DataError
from .policy.registry import Policy, Predictions, check_policy_syntax, expand_policies, policy_names
from .policy.rows import PolicyRow, compare_to_fixed_line, score
from .runtime.interface import RunnableDRNet, macs_by_resolution
from .runtime.outputs import predict_folder
from .runtime.source import ModelFacts, ModelSource, model_facts, open_model


@dataclass
class EvalReport:
    """Everything ``drnet-edge eval`` reports; ``to_json`` gives the documented JSON."""

    n: int
    backbone: str
    resolutions: list[int]
    policies: dict[str, PolicyRow]
    macs_m: dict[int, float]
    data: str = ""
    classes: str = ""
    skipped_bad: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    default_policy: str | None = None  # key in ``policies`` of the model's default policy
    predictions: Predictions | None = field(default=None, repr=False)  # per image, for further analysis

    def to_json(self) -> dict:
        return {
            "n": self.n,
            "default_policy": self.default_policy,
            "backbone": self.backbone,
            "resolutions": self.resolutions,
            "policies": {k: v.to_json() for k, v in self.policies.items()},
            "backbone_macs_m": {str(r): m for r, m in self.macs_m.items()},
            "macs_counter": "torch.utils.flop_counter.FlopCounterMode (MACs = FLOPs / 2)",
            "data": self.data,
            "classes": self.classes,
            "skipped_bad": {"count": len(self.skipped_bad), "files": self.skipped_bad},
            "hardware": {
                "machine": platform.machine(),
                "processor": platform.processor(),
                "torch_threads": None if "runtime" in self.extra else _torch_threads(),
            },
            **self.extra,
        }


def _torch_threads() -> int | None:
    """PyTorch's intra-op threads (a checkpoint's evaluation; converted artifacts run without PyTorch)."""
    torch = sys.modules.get("torch")
    return torch.get_num_threads() if torch is not None else None


def score_policies(
    preds: Predictions, policies: list[Policy], macs: dict[int, int], predictor_macs: int = 0
) -> dict[str, PolicyRow]:
    """Score each policy (the predictor's MACs count for every policy that runs it), then compare
    every dynamic policy with the fixed-resolution line and its control."""
    out = {}
    for pol in policies:
        if pol.needs_labels and not preds.labelled:
            continue  # oracle needs labels; an unlabelled folder simply has no such row
        out[pol.name] = score(pol, preds, macs, predictor_macs if pol.needs_predictor else 0)
    compare_to_fixed_line(out)
    return out


def default_policy_names(net: RunnableDRNet) -> list[str]:
    """Every fixed resolution, and the model's default policy with its control (a bare backbone: fixed only)."""
    if net.default_policy:
        return ["fixed", "default"]
    return ["fixed", "drnet", "random"] if net.has_predictor else ["fixed"]


def check_policies_early(policies: list[str] | str, baseline: str | Path | None, source: ModelSource) -> None:
    """The policy names (their syntax already checked) against the resolutions, default policy and predictor
    the model's metadata records, before any model loads (a wrong name costs no model load)."""
    facts = model_facts(source)
    if facts is not None:
        select_policies(facts, policies, baseline, _named(source))


def _named(source: ModelSource) -> str | None:
    """How the model is named in a policy refusal (the flag the user gave)."""
    return f"--model {source.model}" if source.kind == "checkpoint" else None


def select_policies(
    net: RunnableDRNet | ModelFacts,
    policies: list[str] | str | None,
    baseline: str | Path | None,
    source: str | None = None,
) -> tuple[list[Policy], bool]:
    """The policies to score (the defaults when ``policies`` is None) and whether a baseline row is
    wanted; rejects unknown names and predictor policies on a model without predictor."""
    if policies is None:
        names = default_policy_names(net) + (["baseline"] if baseline else [])
    else:
        names = policy_names(policies)
    want_baseline = "baseline" in names
    if want_baseline and baseline is None:
        raise ConfigError("policy 'baseline' needs --baseline CKPT (a plain model checkpoint)")
    rest = [p for p in names if p != "baseline"]
    pols = expand_policies(rest, list(net.resolutions), default=net.default_policy) if rest else []
    if any(p.needs_predictor for p in pols) and not net.has_predictor:
        what = (
            f"{source} has none (a plain model): use fixed or cascade policies"
            if source
            else "this model has none: use fixed or cascade policies, or pass a DRNet checkpoint with --model"
        )
        raise ConfigError(
            f"policies {', '.join(p.name for p in pols if p.needs_predictor)} need a DRNet model with a "
            f"resolution predictor, and {what}"
        )
    return pols, want_baseline


# Long for its keyword parameters and docstring (the public API); the body is one straight pipeline:
# load, select policies, scan, predict, score, report.
def evaluate(
    data: str | Path | ImageFolder,
    *,
    backbone: str | None = None,
    weights: str | Path | None = None,
    model: str | Path | None = None,
    baseline: str | Path | None = None,
    runtime: str | None = None,
    artifacts: str | Path | None = None,
    threads: int | None = None,
    resolutions: list[int] | str | None = None,
    policies: list[str] | str | None = None,
    classes: ClassList | None = None,
    limit: int | None = None,
    subset: str | None = None,
    batch_size: int = 32,
    skip_bad: bool = False,
    progress: bool = True,
) -> EvalReport:
    """Evaluate a DRNet checkpoint (``model``: a path or bundled name), converted ``artifacts`` or a plain
    ``backbone`` on a folder at each resolution, and score the policies.

    With neither ``model`` nor ``backbone``, the bundled default model is used. Without ``policies``:
    every fixed resolution and the model's default policy with its control. ``baseline`` (a
    checkpoint) adds a ``baseline`` row: that model at its own resolution.

    Example::

        report = evaluate("images/", model="lite0-imagenet")
        print(report.default_policy, report.policies[report.default_policy].top1)
    """
    if batch_size < 1:
        raise ConfigError("--batch-size must be at least 1")
    if policies is not None:
        check_policy_syntax(policy_names(policies))  # a typo answers before even the manifest is read
    source = ModelSource(
        artifacts=artifacts, runtime=runtime, model=model, backbone=backbone, weights=weights, resolutions=resolutions
    ).resolved()  # the default model filled in, the runtime of converted files chosen: the report names them
    if policies is not None:
        check_policies_early(policies, baseline, source)
    net, own_classes = open_model(source, threads=threads)
    if classes is None and own_classes is not None and own_classes.ids != imagenet_classes().ids:
        classes = own_classes
    res = list(net.resolutions)
    pols, want_baseline = select_policies(net, policies, baseline, _named(source))
    folder = data if isinstance(data, ImageFolder) else scan_folder(data, classes=classes, limit=limit, subset=subset)
    if folder.classes is not None and len(folder.classes) != net.num_classes:
        raise DataError(
            f"{folder.root}: {len(folder.classes)} classes ({folder.classes.source}) but the model has "
            f"{net.num_classes} outputs; pass --classes FILE listing the model's classes in output order"
        )
    chosen_only = bool(pols) and all(p.name == "drnet" for p in pols)
    preds, skipped = predict_folder(
        net,
        folder,
        res,
        net.preprocess,
        batch_size=batch_size,
        skip_bad=skip_bad,
        progress=progress,
        chosen_only=chosen_only,
    )
    macs = macs_by_resolution(net)
    pred_macs = net.predictor_macs()
    results = score_policies(preds, pols, macs, pred_macs)
    extra: dict = {"predictor_macs_m": pred_macs / 1e6} if pred_macs else {}
    if source.model is not None:
        extra["model"] = str(source.model)
    if source.kind == "artifacts":
        from .runtime.artifacts import ArtifactDRNet

        assert isinstance(net, ArtifactDRNet)  # converted files always open as ArtifactDRNet
        extra.update(runtime=source.runtime, artifacts=str(source.artifacts), precision=net.precision)
        if net.manifest.passes:  # convert --pass-from: where each borrowed pass came from
            extra["passes"] = net.manifest.passes
    if want_baseline:
        assert baseline is not None
        results["baseline"] = _baseline_result(baseline, folder, batch_size, skip_bad, progress)
        extra["baseline_model"] = str(baseline)
    default = net.default_policy if net.default_policy in results else None  # only a calibrated one
    return EvalReport(
        n=preds.n,
        backbone=net.backbone_name,
        resolutions=res,
        policies=results,
        macs_m={r: m / 1e6 for r, m in macs.items()},
        data=str(folder.root),
        classes=folder.note,
        skipped_bad=skipped,
        extra=extra,
        default_policy=default,
        predictions=preds,
    )


def _baseline_result(
    ckpt: str | Path, folder: ImageFolder, batch_size: int, skip_bad: bool, progress: bool
) -> PolicyRow:
    """A plain model at its own (largest) resolution, on the same images."""
    net, _ = open_model(ModelSource(model=ckpt))
    r = net.resolutions[0]
    preds, _ = predict_folder(
        net, folder, [r], net.preprocess, batch_size=batch_size, skip_bad=skip_bad, progress=progress
    )
    res = score(expand_policies([f"fixed-{r}"], [r])[0], preds, {r: net.backbone_macs(0)})
    res.description = f"baseline model {ckpt} at {r}px"
    return res
