#!/usr/bin/env bash
# Compare our generated router types with the original TypeScript API's, per procedure.
#
#   tests/typescript/compare-original/run.sh ORIGINAL_CHECKOUT_DIR
#
# ORIGINAL_CHECKOUT_DIR is a checkout (or `git archive` export) of the
# TypeScript project we ported: it must contain packages/api/src/root.ts and
# packages/db/prisma/schema.prisma. Nothing from it is copied into this
# repository: it is copied into a temporary directory, whose node_modules get
# the packages its API needs to type-check (from npm, at the versions its
# bun.lock resolved), and Prisma's client types are generated there without
# any engine download. Then compare.ts is compiled against both routers and
# report.mjs prints one line per procedure.
#
# Environment:
#   ENGHUB_TYPES=path     compare this file instead of <repo>/types/enghub-api.ts
#   COMPARE_WORK_DIR=dir  use (and keep) this directory instead of a temporary
#                         one; a second run reuses its node_modules
#   COMPARE_KEEP=1        keep the temporary directory
#   COMPARE_SHOW_TYPES=1  print the full original/our types of each mismatch
#
# Exit status: 0 when every procedure matches, 1 on mismatches or compile
# errors, 2 when the harness could not be set up.
set -euo pipefail

die() { echo "compare-original: $*" >&2; exit 2; }

[ $# -eq 1 ] || die "usage: $0 ORIGINAL_CHECKOUT_DIR"
orig=$(cd "$1" 2>/dev/null && pwd) || die "no such directory: $1"
[ -f "$orig/packages/api/src/root.ts" ] || die "$orig/packages/api/src/root.ts not found"
[ -f "$orig/packages/db/prisma/schema.prisma" ] || die "$orig/packages/db/prisma/schema.prisma not found"
command -v node >/dev/null || die "node is required"
command -v npm >/dev/null || die "npm is required"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
ours=${ENGHUB_TYPES:-$repo/types/enghub-api.ts}
[ -f "$ours" ] || die "$ours not found (run \`enghub typegen\` first, or set ENGHUB_TYPES)"
ours=$(cd "$(dirname "$ours")" && pwd)/$(basename "$ours")

if [ -n "${COMPARE_WORK_DIR:-}" ]; then
  mkdir -p "$COMPARE_WORK_DIR"
  work=$(cd "$COMPARE_WORK_DIR" && pwd)
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/enghub-compare.XXXXXX")
  if [ -z "${COMPARE_KEEP:-}" ]; then
    trap 'rm -rf "$work"' EXIT
  else
    echo "compare-original: keeping $work" >&2
  fi
fi

# ── 1. packages, at the versions the original's lockfile resolved ───────────
# name  fallback-version (used when the checkout has no bun.lock entry)
packages=(
  "@trpc/server 11.10.0"
  "zod 3.25.76"
  "typescript 5.9.3"
  "prisma 6.9.0"
  "@prisma/client 6.9.0"
  "@upstash/redis 1.36.2"
  "@upstash/ratelimit 2.0.8"
  "@clerk/nextjs 6.37.5"
  "@types/node 20.19.33"
)
lock_version() { # NAME -> version from a top-level bun.lock entry `"NAME": ["NAME@VERSION", ...`
  [ -f "$orig/bun.lock" ] || return 0
  # The api and db packages type-check with their own nested TypeScript
  # (`@workspace/api/typescript`), not the root's pinned one.
  local key=$1
  [ "$1" = typescript ] && grep -q '"@workspace/api/typescript"' "$orig/bun.lock" && key=@workspace/api/typescript
  grep -oE "^ *\"$key\": \[\"$1@[^\"]+\"" "$orig/bun.lock" | head -n1 | sed -E 's/.*@([^@"]+)"$/\1/'
}
deps=""
for entry in "${packages[@]}"; do
  name=${entry% *}
  version=$(lock_version "$name")
  version=${version:-${entry#* }}
  deps+="${deps:+, }\"$name\": \"$version\""
done
manifest="{ \"name\": \"enghub-compare-original\", \"private\": true, \"type\": \"module\", \"dependencies\": { $deps } }"
if [ ! -d "$work/node_modules" ] || [ "$(cat "$work/package.json" 2>/dev/null)" != "$manifest" ]; then
  echo "$manifest" >"$work/package.json"
  echo "compare-original: npm install (into $work)" >&2
  # --ignore-scripts: @prisma/engines' postinstall would download engines.
  (cd "$work" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >"$work/npm-install.log" 2>&1) \
    || { cat "$work/npm-install.log" >&2; die "npm install failed"; }
fi

# ── 2. the original's api and db packages ────────────────────────────────────
rm -rf "$work/original"
mkdir -p "$work/original/packages" "$work/node_modules/@workspace"
for pkg in api db; do
  tar -C "$orig/packages" --exclude=node_modules --exclude=dist -cf - "$pkg" | tar -C "$work/original/packages" -xf -
done
ln -sfn ../../original/packages/db "$work/node_modules/@workspace/db"

# ── 3. Prisma client types, offline ──────────────────────────────────────────
# `--no-engine` generates the client without a query engine; the CLI still
# insists on locating engine binaries, which the overrides satisfy with an
# empty file (generate only needs the bundled wasm schema parser).
: >"$work/no-engine"
(cd "$work/original/packages/db" &&
  PRISMA_SCHEMA_ENGINE_BINARY="$work/no-engine" \
  PRISMA_QUERY_ENGINE_LIBRARY="$work/no-engine" \
  PRISMA_QUERY_ENGINE_BINARY="$work/no-engine" \
  PRISMA_HIDE_UPDATE_MESSAGE=1 CHECKPOINT_DISABLE=1 PRISMA_DISABLE_WARNINGS=1 \
  "$work/node_modules/.bin/prisma" generate --no-engine --schema prisma/schema.prisma >"$work/prisma-generate.log" 2>&1) \
  || { cat "$work/prisma-generate.log" >&2; die "prisma generate failed"; }

# ── 4. shim + tsconfig ───────────────────────────────────────────────────────
mkdir -p "$work/shim"
cat >"$work/shim/original.ts" <<EOF
export type { AppRouter as OriginalRouter } from "$work/original/packages/api/src/root";
EOF

compare="$here/compare.ts"
if [ "$ours" != "$repo/types/enghub-api.ts" ]; then
  # compare.ts imports ../../../types/enghub-api: give it that layout around ENGHUB_TYPES.
  mkdir -p "$work/repo/tests/typescript/compare-original" "$work/repo/types"
  cp "$here/compare.ts" "$work/repo/tests/typescript/compare-original/compare.ts"
  cp "$ours" "$work/repo/types/enghub-api.ts"
  compare="$work/repo/tests/typescript/compare-original/compare.ts"
fi

trpc="$work/node_modules/@trpc/server/dist"
cat >"$work/tsconfig.json" <<EOF
{
  "compilerOptions": {
    "strict": true,
    "noEmit": true,
    "skipLibCheck": true,
    "target": "ES2022",
    "lib": ["ES2022", "DOM", "DOM.Iterable"],
    "module": "ESNext",
    "moduleResolution": "Bundler",
    "moduleDetection": "force",
    "isolatedModules": true,
    "esModuleInterop": true,
    "noUncheckedIndexedAccess": true,
    "noErrorTruncation": true,
    "types": ["node"],
    "typeRoots": ["$work/node_modules/@types"],
    "paths": {
      "enghub-compare-original": ["$work/shim/original.ts"],
      "@trpc/server": ["$trpc/index.d.mts"],
      "@trpc/server/*": ["$trpc/*.d.mts"]
    }
  },
  "files": ["$compare"]
}
EOF

# ── 5. compile and report ────────────────────────────────────────────────────
echo "compare-original: type-checking $ours against $orig" >&2
cd "$work"
node "$here/report.mjs" "$work/tsconfig.json" "$compare" "$work/original"
