#!/usr/bin/env bash
# ms/step of `small` b8 64x64 (output stride 16) at an earlier commit and in this
# tree, side by side, with the speed-up: REV's own bench/model.ts runs in a
# temporary git worktree (removed afterwards), then this tree's (bench/compare.ts).
#
#   tools/bench_compare.sh REV [ROUNDS]      e.g. tools/bench_compare.sh c895d13
#   GALLIUM_OVERRIDE_CPU_CAPS=avx tools/bench_compare.sh REV 4   (llvmpipe's AVX2 code, both trees)
set -euo pipefail
[[ $# -ge 1 ]] || { echo "usage: $0 REV [ROUNDS]" >&2; exit 2; }
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec npx -y deno@2.9.6 run -A bench/model.ts --compare "$1" --rounds "${2:-1}"
