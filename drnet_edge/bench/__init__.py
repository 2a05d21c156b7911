"""``drnet-edge bench``: measured latency (and energy) of converted artifacts against fixed resolutions,
on this machine, on an Android phone over adb (its tools, or the demo app) or on a board over SSH.

    report = run_bench("out/artifacts", BenchOptions(device="local", runtime="tflite"))
    report["policies"]["drnet"]["latency_ms"], report["policies"]["drnet"]["latency_vs_ref"]

Where things live, by role: ``options`` (:class:`BenchOptions`, the one set of options and defaults, and
the options a board's run is passed), ``run`` (``run_bench``, the report around any path's measurement);
``paths`` (the registry of ways to measure, one class each: ``local``, the phone's ``tools``, the ``app``,
``ssh`` boards), ``transport`` (``adb``, ``ssh``), ``meters`` (``energy``, ``thermal``, ``resident``
memory, ``op_profile``), ``report`` (console ``tables``, the ``markdown`` report, the ``plot``); shared by
several: ``delegates`` (what ran where), ``profiles`` (device profiles), ``timing`` (latency statistics
and busy-machine warnings).
"""

from __future__ import annotations

from .options import BenchOptions
from .paths.android_run import computed_policies
from .run import FORMAT, VERSION, run_bench, with_ratios

__all__ = ["FORMAT", "VERSION", "BenchOptions", "computed_policies", "run_bench", "with_ratios"]
