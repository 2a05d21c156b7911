# Two entry points for a fresh machine: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev
EXTRAS ?= dev

.PHONY: demo test test-fast lint install clean android-test arm64-check deploy-check board-check

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $@

install: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Two pytest-xdist workers: the suite is mostly single-threaded conversions; on a 2-core machine it takes
# about 7 minutes this way against about 9.5 serially (TEST_WORKERS=0 runs it in one process).
TEST_WORKERS ?= 2
test: $(STAMP) lint
	$(PY) -m pytest -q -ra $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS))

# The quick loop while editing: no conversion, no shared photos, nothing slow (about 1.5 minutes on 2 cores).
# `make test` (all of it) stays the README's command and CI's.
test-fast: $(STAMP)
	$(PY) -m pytest -q -ra -n 2 -m "not conversion and not integration and not slow and not arm64"

# The default model end to end: accuracy per policy, then TFLite int8 (through onnx2tf, the int8 recipe
# that keeps accuracy) and ExecuTorch int8 artifacts,
# then measured latency of each against fixed resolutions on this machine (bundled 64-image sample).
DEMO := out/demo
demo: $(STAMP)
	$(VENV)/bin/drnet-edge eval --quiet --json $(DEMO)/eval.json --plot $(DEMO)/eval.png
	$(VENV)/bin/drnet-edge convert --target tflite --target executorch --int8 --via onnx2tf --out $(DEMO)/artifacts
	$(VENV)/bin/drnet-edge bench --artifacts $(DEMO)/artifacts --runtime tflite --quiet \
		--json $(DEMO)/bench-tflite.json --report $(DEMO)/bench-tflite.md --plot $(DEMO)/bench-tflite.png
	$(VENV)/bin/drnet-edge bench --artifacts $(DEMO)/artifacts --runtime executorch --quiet \
		--json $(DEMO)/bench-executorch.json --report $(DEMO)/bench-executorch.md --plot $(DEMO)/bench-executorch.png

# The default model's int8 artifacts (TFLite through litert-torch and through onnx2tf; ExecuTorch too, which
# verify skips on ARM with its reason) run on aarch64 kernels in an emulated Debian userland (qemu-user) and
# compared with this host, per model and per policy: numerics only, no timing. As root. --setup registers
# qemu's aarch64 binfmt handler (machine-wide) and builds the userland once (~10 min, cached in
# ~/.cache/drnet-edge/aarch64-bookworm or $DRNET_EDGE_ARM64_ROOT); apt-get install qemu-user-static debootstrap.
ARM64        := out/arm64
ARM64_DATA   ?= ../shared/data/imagenet-sample-dev
ARM64_SUBSET ?= test:1/2
ARM64_DATA_NAME ?= imagenet-sample-dev (the 500 ImageNet photos, not shipped)
ARM64_LIMIT  ?= 64
ARM64_RESULT ?= benchmarks/results/arm64_check
ARM64_ARTS   := $(ARM64)/tflite-litert $(ARM64)/tflite-onnx2tf $(ARM64)/executorch
$(ARM64)/tflite-litert/manifest.json: | $(STAMP)
	$(VENV)/bin/drnet-edge convert --target tflite --int8 --via litert --out $(ARM64)/tflite-litert
$(ARM64)/tflite-onnx2tf/manifest.json: | $(STAMP)
	$(VENV)/bin/drnet-edge convert --target tflite --int8 --via onnx2tf --out $(ARM64)/tflite-onnx2tf
$(ARM64)/executorch/manifest.json: | $(STAMP)
	$(VENV)/bin/drnet-edge convert --target executorch --int8 --out $(ARM64)/executorch
arm64-check: $(STAMP) $(addsuffix /manifest.json,$(ARM64_ARTS))
	$(VENV)/bin/drnet-edge verify --arch aarch64 --setup $(addprefix --artifacts ,$(ARM64_ARTS)) \
		$(if $(wildcard $(ARM64_DATA)),--data $(ARM64_DATA) --subset $(ARM64_SUBSET)) --limit $(ARM64_LIMIT) \
		--json $(ARM64_RESULT).json --report $(ARM64_RESULT).md
	@# the report names the photo set, not this machine's path to it (a clone has no ../shared)
	sed -i 's#$(ARM64_DATA)#$(ARM64_DATA_NAME)#' $(ARM64_RESULT).md

# bench --device ssh://... end to end against an emulated ARM64 board (root, Debian): a loopback sshd with throwaway
# keys whose sessions run inside the aarch64 userland above; the bench installs the deploy side there, its JSON comes
# back complete, a lost connection resumes. Timings under emulation mean nothing: none is kept.
board-check: $(STAMP) $(ARM64)/tflite-litert/manifest.json
	bash benchmarks/release/board_check.sh out/board-check $(ARM64)/tflite-litert

# The deploy side without PyTorch: a fresh venv with the base install only (`pip install .`: numpy, OpenCV,
# ai-edge-litert, ...), where `import torch` must fail, runs predict, eval --runtime tflite and the local
# bench on int8 TFLite files that the full install converted, and must give the full install's answers
# on the same photos (the bundled sample). Opt-in: it downloads the base dependencies (~150 MB) once.
DEPLOY := out/deploy
deploy-check: $(STAMP)
	bash benchmarks/release/deploy_check.sh $(DEPLOY)

# The Android demo's core logic (plain Java 11) and its golden vectors, on the JVM (JDK 11 or newer + JUnit 5;
# the app itself builds with JDK 17).
android-test:
	bash android_demo/run-jvm-tests.sh

clean:
	V='$(VENV)'; if [ -d "$${V:?}" ]; then rm -rf "$${V:?}"; fi
	rm -rf out .pytest_cache .ruff_cache
