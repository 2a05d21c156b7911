"""ExecuTorch ``.pte`` files (XNNPACK-delegated) run with ExecuTorch's Python runtime. That runtime
itself imports torch and takes torch tensors, so this loader imports torch inside ``load``: the one
loader that does (no export tool, though)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..base import Runner, per_image


def load(path: Path, threads: int | None = None, entry: str | None = None) -> Runner:
    import torch
    from executorch.runtime import Runtime

    if threads:  # XNNPACK's shared thread pool (process-wide)
        from executorch.extension.pybindings import portable_lib

        if portable_lib._threadpool_get_thread_count() != threads:
            portable_lib._unsafe_reset_threadpool(threads)
    method = Runtime.get().load_program(str(path)).load_method(entry or "forward")
    # outputs alias the runtime's buffers, which the next execute() overwrites: copy them
    return per_image(lambda x: method.execute([torch.from_numpy(x)])[0].numpy().astype(np.float32, copy=True))


def describe(path: Path, threads: int | None = None, entry: str | None = None) -> str:
    return "XNNPACK (in the .pte)"  # the backend is fixed when the .pte is written
