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

swift build -c release --product mf
mf=.build/release/mf

echo; echo "== mf fit Data/sample-ratings.csv --rank 32   (λ and the epochs chosen from the data)"
$mf fit Data/sample-ratings.csv --rank 32
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

# Top-N from implicit feedback: 4- and 5-star ratings as positives, a per-user split, implicit ALS.
work="${TMPDIR:-/tmp}/mf-quickstart"
mkdir -p "$work"
echo; echo "== mf split Data/sample-ratings.csv --min-rating 4 (per-user 80/20)"
$mf split Data/sample-ratings.csv --min-rating 4 --train-output "$work/train.csv" --test-output "$work/test.csv"
echo; echo "== mf fit train.csv --implicit --binary --rank 32"
$mf fit "$work/train.csv" --implicit --binary --rank 32 --model "$work/implicit.mf" --quiet
echo; echo "== mf evaluate test.csv  (ranking metrics at k = 10)"
$mf evaluate "$work/test.csv" --model "$work/implicit.mf"
echo; echo "== mf recommend --history 322,94,17 --top 5  (a new user folded in)"
$mf recommend --history 322,94,17 --top 5 --model "$work/implicit.mf"
