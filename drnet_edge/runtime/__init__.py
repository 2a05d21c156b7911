"""Running a DRNet, deploy side (numpy and the target's runtime package, no PyTorch).

``interface`` (``RunnableDRNet``, the one interface for "a DRNet I can run"), ``manifest`` (the artifacts'
typed manifest), ``artifacts`` (``ArtifactDRNet``: converted files behind that interface) and
``outputs`` (every image of a folder at every resolution: what eval and calibrate replay).
"""
