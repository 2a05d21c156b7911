#!/usr/bin/env bash
# Compile the plain-Java core (android_demo/core) and its JUnit 5 tests with javac, run them with the JUnit
# console launcher, print its summary and exit non-zero on any failure. No Gradle or Android SDK needed.
#   JUNIT_JAR=/path/to/junit-platform-console-standalone.jar   (default: Debian's, /usr/share/java)
#   BUILD_ONLY=1   compile into core/build/jvm-test/{main,test} and stop (bench-preprocess.sh uses it)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CORE="$HERE/core"
BUILD="$CORE/build/jvm-test"
JUNIT_JAR="${JUNIT_JAR:-/usr/share/java/junit-platform-console-standalone.jar}"

command -v javac >/dev/null || { echo "run-jvm-tests.sh: javac not found (install a JDK 11+)" >&2; exit 2; }
command -v java >/dev/null || { echo "run-jvm-tests.sh: java not found" >&2; exit 2; }
[ -f "$JUNIT_JAR" ] || { echo "run-jvm-tests.sh: $JUNIT_JAR not found (apt-get install junit5, or set JUNIT_JAR)" >&2; exit 2; }
[ -f "$CORE/src/test/resources/golden/golden.json" ] || {
    echo "run-jvm-tests.sh: golden vectors missing; run .venv/bin/python android_demo/make_golden.py" >&2; exit 2; }

if [ -d "${BUILD:?}" ]; then rm -rf "${BUILD:?}"; fi
mkdir -p "$BUILD/main" "$BUILD/test"

find "$CORE/src/main/java" -name '*.java' > "$BUILD/main-sources.txt"
javac --release 11 -Xlint:all -Werror -encoding UTF-8 -d "$BUILD/main" @"$BUILD/main-sources.txt"

find "$CORE/src/test/java" -name '*.java' > "$BUILD/test-sources.txt"
javac --release 11 -encoding UTF-8 -cp "$BUILD/main:$JUNIT_JAR" -d "$BUILD/test" @"$BUILD/test-sources.txt"

[ -z "${BUILD_ONLY:-}" ] || exit 0

# -Djava.awt.headless: javax.imageio (PNG reading in the tests) without a display
java -Djava.awt.headless=true -jar "$JUNIT_JAR" \
    --class-path "$BUILD/main:$BUILD/test:$CORE/src/test/resources" \
    --select-package dev.drnetedge.core \
    --fail-if-no-tests \
    --disable-banner \
    --details=summary \
    --reports-dir "$BUILD/reports"
