#!/usr/bin/env bash
# The README's first command: installs what mf needs (Debian packages), builds the release
# binary, and runs the main job on the bundled sample: fit, evaluate, predict, recommend, similar.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libopenblas-dev liblapacke-dev pkg-config)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing ${missing[*]}"
  $sudo apt-get update
  $sudo apt-get install -y "${missing[@]}"
fi

swift build -c release
mf=.build/release/mf

echo; echo "== mf fit Data/sample-ratings.csv --rank 32 --validation Data/sample-test.csv"
$mf fit Data/sample-ratings.csv --rank 32 --validation Data/sample-test.csv
echo; echo "== mf evaluate Data/sample-test.csv"
$mf evaluate Data/sample-test.csv
echo; echo "== mf predict 1 322   (user 1, item 322)"
$mf predict 1 322
echo; echo "== mf recommend 1 --top 5"
$mf recommend 1 --top 5
echo; echo "== mf similar 322 --top 5"
$mf similar 322 --top 5
echo; echo "== mf info"
$mf info
