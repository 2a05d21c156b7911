"""``--op-profile``: per model, the operators that take the time.

Three sources, one shape (:class:`OpProfile`: operator types by time, with their share and count):

* on the phone, ``benchmark_model --enable_op_profiling=true``: the "Summary by node type" table of its
  "Operator-wise Profiling Info for Regular Benchmark Runs" (:func:`parse_benchmark_model_profile`);
* locally with ONNX Runtime, its own profiler (``SessionOptions.enable_profiling``): the JSON it writes,
  one ``"cat": "Node"`` event per operator run with its ``dur`` in microseconds (:func:`parse_ort_profile`);
* locally with ExecuTorch, an ETDump written by the runtime (``enable_etdump=True``) and read back on the
  host by ``executorch.devtools.Inspector`` (:func:`inspector_profile`).

LiteRT's Python interpreter has no per-operator profiler: that case, and any other without one, is an
:func:`absent` profile that says why. Parsers raise :class:`ProfileError` on output with no operator.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import DrnetEdgeError

TOP = 10  # operator types kept per model


class ProfileError(DrnetEdgeError):
    """A profile was asked for and the output holds no operator."""


@dataclass
class OpProfile:
    """Operator types by time per inference (ms), largest first; ``note`` says what the figures are."""

    source: str
    ops: list[dict] = field(default_factory=list)  # {"op", "ms", "share", "count"}
    note: str = ""
    absent: str | None = None  # why there is no profile

    def to_json(self) -> dict:
        return {"source": self.source, "ops": self.ops[:TOP], "ops_total": len(self.ops), "note": self.note,
                "absent": self.absent}  # fmt: skip


def absent(source: str, why: str) -> OpProfile:
    return OpProfile(source, absent=why)


def from_totals(source: str, totals: dict[str, tuple[float, int]], note: str) -> OpProfile:
    """An :class:`OpProfile` from ``{op type: (ms per inference, nodes)}``; shares of their sum."""
    if not totals:
        raise ProfileError(f"{source}: the profile holds no operator")
    whole = sum(ms for ms, _ in totals.values()) or 1.0
    ops = [{"op": op, "ms": ms, "share": ms / whole, "count": n} for op, (ms, n) in totals.items()]
    return OpProfile(source, sorted(ops, key=lambda o: -o["ms"]), note)


# -- benchmark_model --------------------------------------------------------------------------------

_REGULAR = "Operator-wise Profiling Info for Regular Benchmark Runs"
_SUMMARY = "============================== Summary by node type"


def parse_benchmark_model_profile(output: str) -> OpProfile:
    """The regular runs' "Summary by node type" of ``benchmark_model --enable_op_profiling=true`` (old
    tab-separated and new space-aligned formats): per node type its avg ms per run, share and node count."""
    at = output.rfind(_REGULAR)  # printed after the initialization profile
    start = output.find(_SUMMARY, at) if at >= 0 else -1
    if start < 0:
        why = "no 'Operator-wise Profiling Info for Regular Benchmark Runs' section (was --enable_op_profiling=true given?)"
        raise ProfileError(f"benchmark_model: {why}")
    totals: dict[str, tuple[float, int]] = {}
    for line in output[start:].splitlines()[2:]:
        cells = [c.strip() for c in re.split(r"\t|\s{2,}", line) if c.strip()]
        if len(cells) < 7 or not cells[2].replace(".", "", 1).isdigit():
            break
        totals[cells[0]] = (float(cells[2]), int(cells[1]))
    return from_totals("benchmark_model --enable_op_profiling", totals,
                       "avg ms per run of each node type over the profiled runs (Summary by node type); profiling "
                       "adds overhead, so these runs are not the timed ones")  # fmt: skip


# -- ONNX Runtime -----------------------------------------------------------------------------------


def parse_ort_profile(events: Iterable[dict], runs: int) -> OpProfile:
    """ONNX Runtime's profiler JSON (a list of trace events): ``"cat": "Node"`` events of the kernels run
    (``..._kernel_time``), their ``dur`` (µs) summed per ``args.op_name`` and divided by ``runs``."""
    totals: dict[str, list[float]] = {}
    nodes: dict[str, set[str]] = {}
    for e in events:
        if e.get("cat") != "Node" or not str(e.get("name", "")).endswith("_kernel_time"):
            continue
        op = (e.get("args") or {}).get("op_name") or e["name"]
        totals.setdefault(op, [0.0])[0] += float(e.get("dur", 0)) / 1e3
        nodes.setdefault(op, set()).add(e["name"])
    return from_totals("onnxruntime profiler", {op: (t[0] / max(runs, 1), len(nodes[op])) for op, t in totals.items()},
                       f"ms per inference of each operator type, summed over its nodes, mean of {runs} profiled runs")  # fmt: skip


def profile_onnx(path: Path, x: np.ndarray, runs: int, threads: int) -> OpProfile:
    """Run ``path`` ``runs`` times with ONNX Runtime's profiler on (after one warm-up run, whose events are
    dropped) and read what it wrote."""
    import onnxruntime as ort

    with tempfile.TemporaryDirectory(prefix="drnet-edge-ortprof-") as tmp:
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.enable_profiling, so.profile_file_prefix = True, str(Path(tmp) / "ort")
        sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        feed = {sess.get_inputs()[0].name: x}
        for _ in range(runs + 1):
            sess.run(None, feed)
        events = json.loads(Path(sess.end_profiling()).read_text(encoding="utf-8"))
    node_events = [e for e in events if e.get("cat") == "Node"]
    per_run = len(node_events) // (runs + 1) if runs else 0
    return parse_ort_profile(node_events[per_run:], runs)


# -- ExecuTorch -------------------------------------------------------------------------------------


# events that span others listed one by one (the delegate's ops, the kernel call): counted, they would count twice
_WRAPPERS = ("DELEGATE_CALL", "OPERATOR_CALL")


def inspector_profile(rows: Iterable[dict], runs: int) -> OpProfile:
    """Rows of the ExecuTorch Inspector's table (``event_block_name``, ``event_name``, ``raw`` ms per run):
    the "Execute" block's operator events, grouped by name without its ``#N`` suffix (XNNPACK's own op
    names inside a delegate, such as "Convolution (NHWC, QC8) GEMM #3"). ``raw`` may hold fewer runs than
    asked (the ETDump keeps what its buffer holds): each event's mean is used."""
    totals: dict[str, tuple[float, int]] = {}
    delegated: dict[str, bool] = {}
    for r in rows:
        name = str(r.get("event_name", ""))
        if r.get("event_block_name") != "Execute" or name.startswith("Method::") or name in _WRAPPERS:
            continue
        raw = [float(v) for v in r.get("raw") or []]
        if not raw:
            continue
        op = re.sub(r"\s*#\d+$", "", name)
        ms, n = totals.get(op, (0.0, 0))
        totals[op] = (ms + sum(raw) / len(raw), n + 1)
        delegated.setdefault(op, bool(r.get("is_delegated_op")))
    prof = from_totals("ExecuTorch ETDump + Inspector", totals,
                       f"ms per inference of each operator type (mean over {runs} runs of each event), read from the "
                       "ETDump on the host; delegated ops carry the delegate's (XNNPACK's) names")  # fmt: skip
    for o in prof.ops:
        o["delegated"] = delegated[o["op"]]
    return prof


def profile_executorch(path: Path, x: np.ndarray, runs: int, method: str | None = None) -> OpProfile:
    """Run ``path`` with ExecuTorch's ETDump on, write it, and read it back with the devtools' Inspector."""
    import torch
    from executorch.devtools import Inspector
    from executorch.extension.pybindings import portable_lib

    module = portable_lib._load_for_executorch(str(path), enable_etdump=True)
    inputs = [torch.from_numpy(x)]
    for _ in range(runs):
        module.run_method(method or "forward", inputs)
    with tempfile.TemporaryDirectory(prefix="drnet-edge-etdump-") as tmp:
        etdump = Path(tmp) / "profile.etdp"
        module.write_etdump_result_to_file(str(etdump))
        frame = Inspector(etdump_path=str(etdump)).to_dataframe()
    return inspector_profile(frame.to_dict("records"), runs)


# -- the local bench --------------------------------------------------------------------------------

LOCAL_PROFILERS: dict[str, Callable[[Path, np.ndarray, int, int, str | None], OpProfile]] = {
    "onnx": lambda path, x, runs, threads, entry: profile_onnx(path, x, runs, threads),
    "executorch": lambda path, x, runs, threads, entry: profile_executorch(path, x, runs, entry),
}
NO_LOCAL_PROFILER = {
    "tflite": "LiteRT's Python interpreter has no per-operator profiler; on a phone, --op-profile reads "
    "benchmark_model's (--enable_op_profiling)",
}


def local_profiles(
    target: str, models: dict[str, tuple[Path, np.ndarray, str | None]], runs: int, threads: int
) -> dict:
    """``--op-profile`` on this machine: each model's (file, prepared input, entry) profiled with the
    runtime's own profiler, or the reason there is none. The report's ``op_profile`` part."""
    if target not in LOCAL_PROFILERS:
        why = NO_LOCAL_PROFILER.get(target, f"{target} offers no per-operator profile here")
        return {"source": None, "absent": why, "models": {}}
    out = {name: LOCAL_PROFILERS[target](path, x, runs, threads, entry).to_json()
           for name, (path, x, entry) in models.items()}  # fmt: skip
    return {"source": next(iter(out.values()))["source"] if out else None, "absent": None, "models": out}


def device_op_profiles(tool: str, names: list[str], run: Callable[[str], str]) -> dict:
    """``--op-profile`` on the phone: one extra run per model with the tool's profiler (``run(name)`` returns
    its output), after the timed rounds so the profiler's overhead stays out of them."""
    if tool != "benchmark_model":
        return {"source": None, "models": {},
                "absent": f"{tool} writes a per-operator profile (an ETDump) only when built with ExecuTorch's devtools "
                "(EXECUTORCH_BUILD_DEVTOOLS, --etdump_path); reading it back from the phone is not wired here"}  # fmt: skip
    out = {}
    for name in names:
        try:
            out[name] = parse_benchmark_model_profile(run(name)).to_json()
        except ProfileError as exc:
            out[name] = absent("benchmark_model --enable_op_profiling", str(exc)).to_json()
    return {"source": "benchmark_model --enable_op_profiling", "absent": None, "models": out}
