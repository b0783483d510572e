#!/usr/bin/env bash
# The project's checks on a machine with an NVIDIA GPU and no network
# (docs/device.md). Needs .carry/ from tools/device_pack.sh beside the checkout:
# unpacks the carried Deno binary, node_modules and (where no libvulkan is
# installed) the Vulkan/EGL loaders, prints the adapter, then runs
#   test   deno task test
#   bench  deno task bench (the model table's PyTorch peer on CUDA when torch sees one)
#   step   the DeepLabV3-ResNet-101 training step at 512x512 (batch $R101_BATCH, output
#          stride 16) in our code, beside tools/torch_step.py on CUDA
#   demo   (only when PHASES names it) the main job, `deno task demo`, timed; its
#          report.md and summary.json come back in $OUT
#   tiled  (only when PHASES names it) bench/conv_tiled.ts: the workgroup-tiled convolution
#          against the register-tiled one, per conv shape and on the $STEP_CASE step
#   blocks (only when PHASES names it) bench/conv_blocks.ts: the register kernel's 16-channel
#          blocks against its 8-channel ones, per conv shape and on the $STEP_CASE step
#   groups (only when PHASES names it) bench/conv_groups.ts: small convolution dispatches in
#          workgroups of 8 against 64, on the `small` b8 64x64 steps (OS16 and OS8)
# each under its own timeout, logs and JSON into $OUT (the device tool's folder
# that comes back; a temp dir elsewhere).
#
#   tools/device_check.sh                 on the GPU machine, as root (dpkg -x into /)
#   tools/device_check.sh --cpu-dry-run   here: the same steps on a copy of the tree, offline,
#                                         on this machine's adapter, small sizes, nothing
#                                         unpacked into /
#
# Environment (defaults in brackets): PHASES ["test bench step"], TEST_TIMEOUT [170],
# BENCH_TIMEOUT [140], STEP_TIMEOUT [150], DEMO_TIMEOUT [200], TILED_TIMEOUT [200],
# BLOCKS_TIMEOUT [200], GROUPS_TIMEOUT [150] seconds, R101_BATCH [8], R101_SIZE [512],
# R101_OS [16], R101_STEPS [3], TEST_CMD, BENCH_CMD, STEP_CMD, DEMO_CMD, TILED_CMD, BLOCKS_CMD,
# GROUPS_CMD,
# STEP_CASE (BACKBONE:BATCH:SIZE:OS:STEPS).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DRY=0
[[ "${1:-}" == "--cpu-dry-run" ]] && DRY=1
CARRY="$ROOT/.carry"
OUT="${OUT:-$(mktemp -d)}"
WORK=$(mktemp -d)
mkdir -p "$OUT" "$WORK/bin" "$WORK/xdg"
SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"
STARTED=$SECONDS
say() { echo "[device_check +$((SECONDS - STARTED))s] $*" | tee -a "$SUMMARY"; }
die() { say "FATAL: $*"; exit 1; }
# xz, with Python's lzma where the xz tool is missing.
unxz_to() {
  if command -v xz >/dev/null; then xz -dc "$1" >"$2"
  else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"
  fi
}
untar_xz() {
  if command -v xz >/dev/null; then tar -xJf "$1"
  else python3 -c 'import sys,tarfile; tarfile.open(sys.argv[1]).extractall()' "$1"
  fi
}

say "mode: $([[ $DRY == 1 ]] && echo "cpu dry run" || echo device); out: $OUT"
for f in deno.xz node_modules.tar.xz; do
  [[ -s "$CARRY/$f" ]] || die "$CARRY/$f missing: run tools/device_pack.sh and carry .carry"
done

# The tree the checks run in: the checkout itself on the device; here a copy of
# what the device tool sends (tracked and untracked-not-ignored files), so the
# local node_modules plays no part.
if [[ $DRY == 1 ]]; then
  TREE="$WORK/tree"
  mkdir -p "$TREE"
  (cd "$ROOT" && git ls-files -co --exclude-standard -z |
    xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' | tar --null -T - -cf -) |
    tar -C "$TREE" -xf -
  cp -r "$CARRY" "$TREE/.carry"
else
  TREE="$ROOT"
fi
cd "$TREE" || die "no tree at $TREE"

# Deno and the npm packages, offline: a fresh DENO_DIR (as on a bare machine)
# and an unreachable registry, so a missing package fails at once.
unxz_to .carry/deno.xz "$WORK/bin/deno" && chmod +x "$WORK/bin/deno" || die "cannot unpack deno"
export PATH="$WORK/bin:$PATH"
[[ -d node_modules/.deno ]] || untar_xz .carry/node_modules.tar.xz || die "cannot unpack node_modules"
export DENO_DIR="$WORK/deno_dir" NPM_CONFIG_REGISTRY="http://127.0.0.1:9/" DENO_NO_UPDATE_CHECK=1
export XDG_RUNTIME_DIR="$WORK/xdg" NO_COLOR=1
say "$(deno --version | head -1) at $(command -v deno)"

# The Vulkan loader (wgpu reaches the NVIDIA driver through it).
debs=(.carry/gl/*.deb)
if [[ $DRY == 1 ]]; then
  mkdir -p "$WORK/glroot"
  for f in "${debs[@]}"; do [[ -f "$f" ]] && dpkg -x "$f" "$WORK/glroot"; done
  found=$(find "$WORK/glroot" -name 'libvulkan.so.1*' | head -1)
  say "loader debs: ${#debs[@]} ($(cd .carry/gl 2>/dev/null && ls *.deb | tr '\n' ' ')); libvulkan in them: ${found:-NONE}"
elif ldconfig -p | grep 'libvulkan\.so\.1' >/dev/null; then  # not -q: no SIGPIPE under pipefail
  say "libvulkan already installed"
else
  [[ -f "${debs[0]}" ]] || die "no libvulkan here and no .carry/gl/*.deb"
  for f in "${debs[@]}"; do dpkg -x "$f" /; done
  ldconfig
  say "unpacked ${#debs[@]} loader packages into /"
fi
if [[ $DRY == 0 ]]; then
  icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if ! ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json >/dev/null 2>&1 &&
    [[ -f $icd ]]; then
    export VK_DRIVER_FILES=$icd
    export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
    say "VK_DRIVER_FILES=$icd"
  fi
  command -v nvidia-smi >/dev/null &&
    say "nvidia-smi: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader)"
fi

# The adapter Deno's WebGPU picks (the one every check below uses).
adapter=$(deno eval '
  const a = await navigator.gpu?.requestAdapter();
  if (!a) { console.log("NO ADAPTER"); Deno.exit(1); }
  const i = a.info;
  console.log(`${i.description || i.device} | vendor ${i.vendor} | ${i.architecture} | ` +
    `fallback ${i.isFallbackAdapter} | maxStorageBufferBindingSize ` +
    `${a.limits.maxStorageBufferBindingSize} | maxBufferSize ${a.limits.maxBufferSize}`);' 2>&1)
ok=$?
say "adapter: $adapter"
((ok == 0)) || die "no WebGPU adapter"
if [[ $DRY == 0 ]] && grep -qiE 'llvmpipe|lavapipe|fallback true' <<<"$adapter"; then
  die "the adapter is a CPU one: the NVIDIA Vulkan driver was not found (see docs/device.md)"
fi

# PyTorch: the python3 that imports torch; CUDA when it sees a GPU.
TORCH_DEVICE=none
for py in python3 /usr/bin/python3; do
  if info=$("$py" -c 'import torch; print(torch.__version__, torch.cuda.is_available())' 2>/dev/null); then
    export TORCH_PYTHON=$py
    [[ "$info" == *True ]] && TORCH_DEVICE=cuda
    [[ $DRY == 1 ]] && TORCH_DEVICE=cpu
    say "torch: $py $info -> peer on $TORCH_DEVICE"
    break
  fi
done
[[ -n "${TORCH_PYTHON:-}" ]] || say "torch: not importable; no PyTorch peer"
torch_args=(--no-torch)
[[ $TORCH_DEVICE != none ]] && torch_args=(--torch-device "$TORCH_DEVICE")

if [[ $DRY == 1 ]]; then
  : "${TEST_CMD:=deno test -A --parallel tests/gpu/}"
  : "${BENCH_CMD:=deno check bench/main.ts && deno run -A bench/model.ts --case small:2:32:16:2 ${torch_args[*]}}"
  : "${STEP_CASE:=small:2:64:16:2}"
else
  : "${TEST_CMD:=deno task test}"
  : "${BENCH_CMD:=deno task bench ${torch_args[*]}}"
  : "${STEP_CASE:=resnet101:${R101_BATCH:-8}:${R101_SIZE:-512}:${R101_OS:-16}:${R101_STEPS:-3}}"
fi
: "${STEP_CMD:=deno run -A bench/model.ts --case $STEP_CASE ${torch_args[*]} --json $OUT/step.json}"
: "${DEMO_CMD:=deno task demo --out $WORK/demo && cp $WORK/demo/report.md $WORK/demo/summary.json $OUT/}"
: "${TILED_CMD:=deno run -A bench/conv_tiled.ts --case $STEP_CASE --json $OUT/tiled.json}"
: "${BLOCKS_CMD:=deno run -A bench/conv_blocks.ts --case $STEP_CASE --rounds 3}"
: "${GROUPS_CMD:=deno run -A bench/conv_groups.ts --rounds 3}"

# One phase: its command under a timeout, the whole log into $OUT, its tail here.
phase() {
  local name=$1 limit=$2 cmd=$3 start=$SECONDS rc
  say "$name: $cmd (timeout ${limit}s)"
  timeout -k 10 "$limit" bash -c "$cmd" >"$OUT/$name.log" 2>&1
  rc=$?
  tail -n "${TAIL_LINES:-25}" "$OUT/$name.log"
  say "$name: exit $rc after $((SECONDS - start))s$( ((rc == 124)) && echo ' (TIMED OUT)')"
  return 0
}
for p in ${PHASES:-test bench step}; do
  case $p in
    test) phase test "${TEST_TIMEOUT:-170}" "$TEST_CMD" ;;
    bench) phase bench "${BENCH_TIMEOUT:-140}" "$BENCH_CMD" ;;
    step)
      phase step "${STEP_TIMEOUT:-150}" "$STEP_CMD"
      # Ours failed before its PyTorch peer ran: time the peer alone.
      if [[ ! -s "$OUT/step.json" && $TORCH_DEVICE != none ]]; then
        IFS=: read -r b n s os k <<<"$STEP_CASE"
        phase torch 80 "$TORCH_PYTHON tools/torch_step.py --backbone $b --batch $n --size $s --os $os --device $TORCH_DEVICE"
      fi
      ;;
    demo) phase demo "${DEMO_TIMEOUT:-200}" "$DEMO_CMD" ;;
    tiled) phase tiled "${TILED_TIMEOUT:-200}" "$TILED_CMD" ;;
    blocks) phase blocks "${BLOCKS_TIMEOUT:-200}" "$BLOCKS_CMD" ;;
    groups) phase groups "${GROUPS_TIMEOUT:-150}" "$GROUPS_CMD" ;;
    *) say "unknown phase $p" ;;
  esac
done
[[ -f "$OUT/test.log" ]] && say "test summary: $(grep -E '^(ok|FAILED) \|' "$OUT/test.log" | tail -1)"
[[ -f "$OUT/torch.log" ]] && say "torch alone: $(tail -1 "$OUT/torch.log")"
[[ -f "$OUT/step.log" ]] && grep -E '^(resnet|small)|params ours' "$OUT/step.log" | while read -r l; do say "step: $l"; done
rm -rf "$WORK"
say "done"
