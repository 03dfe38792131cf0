#!/usr/bin/env bash
# Installs a real VS Code that this machine can get from the npm registry,
# where @vscode/test-electron cannot download one: code-server 4.100.3
# (= VS Code 1.100.3, the last release for Node 20). Used by the VS Code tests
# and by `npm start`. Idempotent; installs into .vscode-test/code-server
# (git-ignored), never into the project's own node_modules.
# Builds native modules: needs build-essential python3 libkrb5-dev, and ripgrep;
# installs them with apt-get when missing and allowed (root or sudo).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
dest="${HANGAR_CODE_SERVER_DIR:-$root/.vscode-test/code-server}"
version=4.100.3
stamp="$dest/.installed-$version"
[ -f "$stamp" ] && [ -x "$dest/node_modules/.bin/code-server" ] && exit 0

if ! command -v rg >/dev/null || ! command -v g++ >/dev/null || [ ! -e /usr/include/krb5.h ]; then
  pkgs="build-essential python3 libkrb5-dev ripgrep"
  if command -v apt-get >/dev/null && { [ "$(id -u)" = 0 ] || command -v sudo >/dev/null; }; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "Installing $pkgs with apt-get..."
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $pkgs >/dev/null
  else
    echo "install-code-server: install these packages first (Debian names): $pkgs" >&2
    exit 1
  fi
fi

# @vscode/ripgrep's postinstall downloads rg from GitHub unless its cache
# already holds the archive; seed the cache with Debian's rg.
rg_pkg=1.15.11
rg_tmp="${TMPDIR:-/tmp}/vscode-ripgrep-cache-$rg_pkg"
mkdir -p "$rg_tmp"
archive="$rg_tmp/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [ ! -f "$archive" ]; then
  staging="$(mktemp -d)"
  cp "$(command -v rg)" "$staging/rg"
  tar -C "$staging" -czf "$archive" rg
  rm -rf "$staging"
fi

mkdir -p "$dest"
cd "$dest"
[ -f package.json ] || echo '{"name":"hangar-vscode-harness","private":true}' > package.json
echo "Installing code-server $version into $dest (about 90 s on first run)..."
# nodedir: node-gyp builds native modules against this Node's own headers.
# yes: node-pty's postinstall runs `npx node-gyp`, which must not prompt.
npm_config_nodedir=/usr npm_config_yes=true npm install --no-audit --no-fund --loglevel=error --unsafe-perm \
  "code-server@$version" >install.log 2>&1 || { tail -40 install.log >&2; exit 1; }
touch "$stamp"
echo "code-server $version installed."
