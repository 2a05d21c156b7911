"""Running a DRNet, deploy side (numpy and the target's runtime package, no PyTorch; an AST test holds every
module here to that, imports inside functions included).

``source`` (``open_model``: the one door to a model, converted files, a checkpoint or a backbone, the latter
two through build-side openers), ``interface`` (``RunnableDRNet``: everything evaluation and the deployed loop
read from a model), ``manifest`` (the artifacts' typed manifest, and which runtime runs them), ``artifacts``
(``ArtifactDRNet``: converted files behind that interface), ``loop`` (the deployed loop, photo by photo),
``outputs`` (every image of a folder at every resolution: what eval and calibrate replay), ``bundled`` (the
models shipped in the package, by name) and ``int8_io`` (TFLite's float <-> int8 edges).
"""
