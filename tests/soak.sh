#!/usr/bin/env bash
# Bounded soak: continuous DNS churn through the embedded server for the given duration (default 3m);
# fails if managed memory (after a full GC) or open file descriptors grow. Figures go into RELIABILITY.md.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project tests/Headless.Discovery.Soak -- "${1:-3m}"
