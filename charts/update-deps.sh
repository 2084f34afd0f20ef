#!/usr/bin/env bash
# Resolve the file:// dependencies in order: every component packs kepu-lib, then the
# umbrella packs the components. Needs the helm CLI (or see tests/charts/conftest.py,
# which does the same with helm-python-sdk).
set -euo pipefail
cd "$(dirname "$0")"
for chart in identity talent reporting projects assessment gateway kepu; do
  helm dependency update "$chart"
done
