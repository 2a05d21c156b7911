# Two entry points for a fresh machine: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev
EXTRAS ?= dev

.PHONY: demo test lint install clean android-test

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $@

install: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: $(STAMP) lint
	$(PY) -m pytest -q -ra

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

# The Android demo's core logic (plain Java) and its golden vectors, on the JVM (JDK 17 + JUnit 5).
android-test:
	bash android_demo/run-jvm-tests.sh

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
