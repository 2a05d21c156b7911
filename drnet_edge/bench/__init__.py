"""``drnet-edge bench``: measured latency (and energy) of converted artifacts against fixed resolutions,
on this machine or on an Android phone over adb.

    report = run_bench("out/artifacts", BenchOptions(device="local", runtime="tflite"))
    report["policies"]["drnet"]["latency_ms"], report["policies"]["drnet"]["latency_vs_ref"]

Where things live: ``options`` (:class:`BenchOptions`, the one set of options and defaults),
``run`` (``run_bench``, the report), ``local`` (this machine), ``android`` (choosing the phone, its
benchmark tools), ``android_run`` (the interleaved rounds on the phone), ``app`` (the demo app's
measurement), ``energy`` (every energy meter), ``adb``, ``parsers``, ``profiles``, ``stats``, ``report``.
"""

from __future__ import annotations

from .android_run import computed_policies
from .options import BenchOptions
from .run import FORMAT, VERSION, choose_runtime, run_bench, with_ratios

__all__ = ["FORMAT", "VERSION", "BenchOptions", "choose_runtime", "computed_policies", "run_bench", "with_ratios"]
