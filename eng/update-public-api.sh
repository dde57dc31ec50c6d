#!/usr/bin/env bash
# Records the public surface of every library project in PublicAPI.Unshipped.txt (PublicApiAnalyzers).
# Run after an intentional public API change; review the diff like any other code change.
set -euo pipefail
cd "$(dirname "$0")/.."
for proj in src/*/*.csproj; do
  dir=$(dirname "$proj")
  [ -f "$dir/PublicAPI.Unshipped.txt" ] || continue
  log=$(mktemp)
  dotnet build "$proj" -c Release --no-incremental -p:TreatWarningsAsErrors=false -p:BuildProjectReferences=true >"$log" 2>&1 || true
  python3 - "$dir" "$log" <<'PY'
import re, sys
d, log = sys.argv[1], sys.argv[2]
proj_dir = d.rstrip('/')
add, remove = set(), set()
for line in open(log, encoding='utf-8', errors='replace'):
    if proj_dir not in line:
        continue
    m = re.search(r"RS0016: Symbol '(.*)' is not part of the declared public API", line)
    if m: add.add(m.group(1))
    m = re.search(r"RS0017: Symbol '(.*)' is part of the declared API, but is either not public or could not be found", line)
    if m: remove.add(m.group(1))
path = f"{d}/PublicAPI.Unshipped.txt"
lines = [l.rstrip('\n') for l in open(path, encoding='utf-8') if l.strip() and not l.startswith('#nullable')]
lines = sorted((set(lines) | add) - remove, key=lambda s: s.replace('~', ''))
open(path, 'w', encoding='utf-8').write('#nullable enable\n' + ''.join(l + '\n' for l in lines))
print(f"{path}: +{len(add)} -{len(remove)} ({len(lines)} symbols)")
PY
  rm -f "$log"
done
