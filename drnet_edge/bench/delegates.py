"""What ran where: LiteRT's delegates on the phone (``--delegate cpu|gpu|nnapi``) and what each model
actually got, read from ``benchmark_model``'s log.

The tool says it in a few lines (``tests/data/adb/sources/tflite_*delegate*`` holds real ones)::

    VERBOSE: Replacing 58 out of 58 node(s) with delegate (TfLiteGpuDelegateV2) node, yielding 1 partitions ...
    INFO: Created 1 GPU delegate kernels.
    INFO: Explicitly applied GPU delegate, and the model graph will be completely executed by the delegate.

or, when the delegate refuses the model (the int8 files drnet-edge writes take an int8 input, which
many GPU delegates refuse: then a refusal row is the expected result)::

    No operations will run on the GPU, and all 31 operations will run on the CPU.
    Though NNAPI delegate is explicitly applied, the model graph will not be executed by the delegate

:func:`parse_delegation` turns them into a :class:`Delegation`: ``full``, ``partial``, ``refused``
(the model ran, on the CPU) or ``failed`` (the tool stopped: no timing), or ``unknown`` when the
log says nothing. ExecuTorch has no such choice at run time: a ``.pte``'s backend is fixed at export.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from ..errors import ConfigError, DrnetEdgeError


@dataclass(frozen=True)
class DelegateSpec:
    """One ``--delegate`` choice: ``benchmark_model``'s flags for it and the names its log uses."""

    name: str  # the tool's provider name in "Explicitly applied <name> delegate"
    node: str  # the delegate node's name in "Replacing N out of M node(s) with delegate (<node>) node"
    flags: tuple[str, ...]
    app_option: str  # what the demo app does (android_demo/core Delegate)
    note: str = ""


DELEGATES: dict[str, DelegateSpec] = {
    "cpu": DelegateSpec("XNNPACK", "TfLiteXNNPackDelegate", ("--use_xnnpack=true",), "Interpreter.Options.setUseXNNPACK(true)"),
    "gpu": DelegateSpec(
        "GPU", "TfLiteGpuDelegateV2", ("--use_gpu=true", "--use_xnnpack=false"),
        "Interpreter.Options.addDelegate(GpuDelegate())",
        "int8-input models are often refused by the GPU delegate (then the model runs on the CPU)",
    ),
    "nnapi": DelegateSpec(
        "NNAPI", "TfLiteNnapiDelegate", ("--use_nnapi=true", "--use_xnnpack=false"), "Interpreter.Options.setUseNNAPI(true)",
        "NNAPI is deprecated from Android 15 (API 35): vendors may drop their drivers; LiteRT's NPU path replaces it",
    ),
}  # fmt: skip

STATUSES = ("full", "partial", "refused", "failed", "unknown")


class DelegateFailed(DrnetEdgeError):
    """The tool stopped because the delegate could not be applied (no timing); carries the row."""

    def __init__(self, delegation: Delegation) -> None:
        super().__init__(delegation.summary())
        self.delegation = delegation


@dataclass
class Delegation:
    """What one model got from the delegate it was offered."""

    asked: str  # cpu, gpu or nnapi
    status: str = "unknown"  # one of STATUSES
    delegated_nodes: int | None = None
    total_nodes: int | None = None
    partitions: int | None = None
    kernels: int | None = None
    unsupported: list[str] = field(default_factory=list)  # the delegate's "OP: reason" lines
    evidence: list[str] = field(default_factory=list)  # the log lines the status comes from

    @property
    def ran(self) -> bool:
        """Whether the model ran at all (on the delegate or, refused, on the CPU)."""
        return self.status != "failed"

    def summary(self) -> str:
        """One line for the report: where the model ran."""
        spec = DELEGATES[self.asked]
        nodes = f"{self.delegated_nodes} of {self.total_nodes} nodes" if self.total_nodes is not None else None
        kern = f"{self.kernels} delegate kernels" if self.kernels is not None else None
        detail = ", ".join(x for x in (nodes, kern) if x)
        detail = f" ({detail})" if detail else ""
        return {
            "full": f"all on {spec.name}{detail}",
            "partial": f"partly on {spec.name}, the rest on the CPU{detail}",
            "refused": f"{spec.name} refused it: ran on the CPU{detail}",
            "failed": f"{spec.name} failed to apply: the tool stopped, no timing",
            "unknown": f"the tool's log says nothing about {spec.name}",
        }[self.status]

    def to_json(self) -> dict:
        return asdict(self) | {"delegate": DELEGATES[self.asked].name, "ran": self.ran, "summary": self.summary()}


_REPLACING = re.compile(
    r"Replacing (\d+)(?: out of (\d+))? node\(s\) with delegate \((\w+)\) node, yielding (\d+) partitions"
)
_KERNELS = re.compile(r"Created (\d+) GPU delegate kernels")
_APPLIED = re.compile(r"Explicitly applied (\w+) delegate, and the model graph will be (completely|partially) executed"
                      r"(?: by the delegate w/ (\d+) delegate kernels)?")  # fmt: skip
_NOT_EXECUTED = re.compile(r"Though (\w+) delegate is explicitly applied, the model graph will not be executed")
_NO_OPS = re.compile(r"No operations will run on the GPU, and all (\d+) operations will run on the CPU")
_SOME_OPS = re.compile(r"(?:First )?(\d+) operations will run on the GPU, and the remaining (\d+)(?: operations)? (?:will run )?on the CPU")  # fmt: skip
_UNSUPPORTED_HEAD = re.compile(r"(?:Following|Next) operations are not supported by GPU delegate")
_UNSUPPORTED_OP = re.compile(r"^\s*(?:\S+\s+\S+\s+\d+\s+\d+\s+\w\s+\S+\s*:\s*)?([A-Z][A-Z0-9_]+(?: \w+)?:(?: .*)?)$")
_FAILED = re.compile(r"Failed to apply (\w+) delegate")
_NO_GPU = "GPU acceleration is unsupported on this platform"


def parse_delegation(output: str, asked: str) -> Delegation:
    """Where ``benchmark_model``'s log says the model ran under the delegate ``asked`` (cpu, gpu, nnapi)."""
    spec = DELEGATES[asked]
    d = Delegation(asked)
    lines = output.splitlines()
    for k, line in enumerate(lines):
        if (m := _REPLACING.search(line)) and m.group(3) == spec.node:
            d.delegated_nodes, d.partitions = int(m.group(1)), int(m.group(4))
            d.total_nodes = int(m.group(2)) if m.group(2) else None
            d.evidence.append(line.strip())
        elif (m := _KERNELS.search(line)) and asked == "gpu":
            d.kernels = int(m.group(1))
            d.evidence.append(line.strip())
        elif (m := _APPLIED.search(line)) and m.group(1) == spec.name:
            d.status = "full" if m.group(2) == "completely" else "partial"
            d.kernels = int(m.group(3)) if m.group(3) else d.kernels
            d.evidence.append(line.strip())
        elif (m := _NOT_EXECUTED.search(line)) and m.group(1) == spec.name:
            d.status = "refused"
            d.evidence.append(line.strip())
        elif asked == "gpu" and (m := _NO_OPS.search(line)):
            d.status, d.delegated_nodes, d.total_nodes = "refused", 0, int(m.group(1))
            d.evidence.append(line.strip())
        elif asked == "gpu" and (m := _SOME_OPS.search(line)):
            on, off = int(m.group(1)), int(m.group(2))
            d.delegated_nodes, d.total_nodes = on, on + off
            d.status = "refused" if on == 0 else d.status if d.status == "full" else "partial"
            d.evidence.append(line.strip())
        elif asked == "gpu" and _UNSUPPORTED_HEAD.search(line):
            for op in lines[k + 1 :]:
                if not (u := _UNSUPPORTED_OP.match(op)) or "operations will run" in op:
                    break
                d.unsupported.append(u.group(1).strip())
        elif (m := _FAILED.search(line)) and m.group(1).upper() == spec.name:
            d.status = "failed"
            d.evidence.append(line.strip())
        elif asked == "gpu" and _NO_GPU in line:
            d.status = "refused"
            d.evidence.append(line.strip())
    if d.status == "unknown" and d.total_nodes is not None and d.delegated_nodes is not None:
        d.status = "full" if d.delegated_nodes == d.total_nodes else "partial" if d.delegated_nodes else "refused"
    if d.status in ("unknown", "full") and d.kernels == 0:
        d.status = "refused"
    return d


def check_delegate(delegate: str | None, target: str) -> None:
    """``--delegate`` chooses LiteRT's delegate: refuse it for another runtime, in one line."""
    if delegate is not None and target != "tflite":
        raise ConfigError(
            f"--delegate {delegate} chooses LiteRT's delegate; a {target} file's backend is fixed when it is exported "
            "(see the report's delegation.backend): drop --delegate or pass --runtime tflite"
        )


def delegation_header(asked: str | None, target: str, backend: str | None = None) -> dict:
    """The report's ``delegation`` head: what was asked for and how, before any model's row."""
    if target != "tflite":
        return {
            "asked": None,
            "backend": backend,
            "note": f"the {target} files' backend, fixed when they were exported ({backend or 'not recorded'}); "
            "--delegate does not apply",
            "models": {},
        }
    spec = DELEGATES[asked or "cpu"]
    return {
        "asked": asked or "cpu",
        "backend": spec.name,
        "flags": list(spec.flags),
        "note": spec.note or "LiteRT's default CPU path",
        "models": {},
    }
