#!/usr/bin/env bash
# Install the project with its test extras, the browser the UI tests drive, and run the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh test
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    if [ "$(id -u)" = 0 ]; then
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >/dev/null
    else
        echo "note: chromium and chromium-driver are not installed; the browser test will skip" >&2
    fi
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
exec .venv/bin/python -m pytest -q "$@"
