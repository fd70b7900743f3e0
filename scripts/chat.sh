#!/usr/bin/env bash
# Install (first run only takes long) and start the chat on the bundled article at http://127.0.0.1:7860
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/qa serve "$@"
