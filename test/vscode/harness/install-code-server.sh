#!/usr/bin/env bash
# Installs the VS Code the tests run in, where @vscode/test-electron cannot
# download one: code-server 4.100.3 (= VS Code 1.100.3, the last release for
# Node 20) from the npm registry, plus playwright-core to drive its workbench
# in Debian's chromium. Idempotent; installs into .vscode-test/code-server
# (git-ignored), never into the project's own node_modules.
# Needs: build-essential python3 libkrb5-dev ripgrep chromium (see .ci/run).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
dest="${HANGAR_CODE_SERVER_DIR:-$root/.vscode-test/code-server}"
version=4.100.3
stamp="$dest/.installed-$version"
[ -f "$stamp" ] && [ -x "$dest/node_modules/.bin/code-server" ] && exit 0

for tool in rg chromium; do
  command -v "$tool" >/dev/null || { echo "install-code-server: '$tool' is missing; install Debian's ripgrep and chromium packages first." >&2; exit 1; }
done

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
  "code-server@$version" playwright-core@1 >install.log 2>&1 || { tail -40 install.log >&2; exit 1; }
touch "$stamp"
echo "code-server $version installed."
