"""The ways a bench measures, one registered :class:`~.base.BenchPath` each (see :mod:`.base`):

* ``local`` (:mod:`.local`, its timed runs in :mod:`.local_runs`): the real runtimes on this machine;
* ``tools`` (:mod:`.android_run`, the phone and its tools in :mod:`.android`, their output in :mod:`.parsers`):
  a phone's own benchmark tools over adb;
* ``app`` (:mod:`.app`): the installed demo app measures the whole pipeline on the phone;
* ``ssh`` (:mod:`.board_run`, the board itself in :mod:`.board`): a board runs the local path over SSH.

A new path is one module here with one class registered with :func:`~.base.register_path`, imported below.
"""

from __future__ import annotations

from . import android_run, app, board_run, local  # noqa: F401  (each registers its path)
from .base import PATHS, BenchPath, Measurement, path_class, path_for, register_path, registered

__all__ = ["PATHS", "BenchPath", "Measurement", "path_class", "path_for", "register_path", "registered"]
