#!/usr/bin/env bash
# Prepares what tools/device_check.sh needs on a GPU machine that reaches no
# network, in the ignored folder .carry/ of this checkout (docs/device.md):
#   .carry/deno.xz              the Deno binary that `npx -y deno@2.9.6` runs here, xz-compressed
#                               (-9e: 1 MB smaller than -6, and the carry is at its limit)
#   .carry/node_modules.tar.xz  this checkout's node_modules (npm packages; no source maps, and
#                               no copy of effect's TypeScript sources: its exports load dist/)
#   .carry/gl/*.deb             Debian's Vulkan / EGL loaders (amd64), unpacked there with dpkg -x
# and prints the size of what would travel (the device tool's limit is 64 MiB
# for the working tree and the carried paths together).
#
#   tools/device_pack.sh [--force]     (--force: rebuild files that already exist)
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"

DENO_VERSION=2.9.6
CARRY=.carry
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1
mkdir -p "$CARRY/gl"
fresh() { [[ $FORCE == 1 || ! -s "$1" ]]; }

# The Deno binary: the one npx fetched into its cache (Deno.execPath() names it).
if fresh "$CARRY/deno.xz"; then
  deno_bin=$(npx -y "deno@$DENO_VERSION" eval 'console.log(Deno.execPath())')
  echo "deno: $deno_bin ($("$deno_bin" --version | head -1))"
  nice xz -T0 -9e -c "$deno_bin" >"$CARRY/deno.xz.tmp"
  mv "$CARRY/deno.xz.tmp" "$CARRY/deno.xz"
fi

# npm packages: `deno install` fills node_modules from deno.json and deno.lock;
# source maps are left out (only stack traces read them), and so is effect's
# src/ (23 MB of TypeScript that only its source maps point to: the package's
# exports and types are under dist/).
if fresh "$CARRY/node_modules.tar.xz"; then
  npx -y "deno@$DENO_VERSION" install >/dev/null
  # Exit status 1: a file changed while read (another deno run touching .deno/): harmless.
  tar --exclude='*.map' --exclude='node_modules/.deno/effect@*/node_modules/effect/src' \
    --warning=no-file-changed -cf "$CARRY/node_modules.tar" node_modules ||
    (($? == 1))
  nice xz -T0 -6 -f "$CARRY/node_modules.tar"
fi

# The loaders, for amd64 whatever this machine is (device README's recipe).
if [[ $FORCE == 1 ]] || ! compgen -G "$CARRY/gl/libvulkan1_*.deb" >/dev/null; then
  rm -f "$CARRY"/gl/*.deb
  lists=$(mktemp -d)
  mkdir -p "$lists/partial"
  o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
  apt-get "${o[@]}" update >/dev/null
  (cd "$CARRY/gl" && apt-get "${o[@]}" download \
    libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
  rm -rf "$lists"
fi

ls -l "$CARRY" "$CARRY/gl"
tree_kib=$(git ls-files -co --exclude-standard -z | du -ck --files0-from=- 2>/dev/null | tail -1 | cut -f1)
carry_kib=$(du -sk "$CARRY" | cut -f1)
echo "working tree ${tree_kib} KiB + .carry ${carry_kib} KiB = $(((tree_kib + carry_kib) / 1024)) MiB (limit 64 MiB)"
if ((tree_kib + carry_kib > 64 * 1024)); then
  echo "too large to travel: remove untracked files or shrink .carry" >&2
  exit 1
fi
