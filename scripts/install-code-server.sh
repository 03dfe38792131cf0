#!/usr/bin/env bash
# Installs a real VS Code that this machine can get from the npm registry,
# where @vscode/test-electron cannot download one: code-server 4.100.3
# (= VS Code 1.100.3, the last release for Node 20). Used by the VS Code tests
# and by `npm start`. Idempotent; .vscode-test/code-server (git-ignored) is
# a link to this machine's copy for this version and Node ABI, in
# ${XDG_CACHE_HOME:-~/.cache}/hangar-dev, installed there once (about 90 s of
# native builds) and shared by every checkout; never the project's own
# node_modules. HANGAR_CODE_SERVER_DIR installs into a folder of its own.
# Builds native modules: needs build-essential python3 libkrb5-dev, and ripgrep;
# installs them with apt-get when missing and allowed (root or sudo).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
version=4.100.3
link=""
if [ -n "${HANGAR_CODE_SERVER_DIR:-}" ]; then
  dest="$HANGAR_CODE_SERVER_DIR"
else
  link="$root/.vscode-test/code-server"
  dest="${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/hangar-dev/code-server-$version-node$(node -p process.versions.modules)"
fi
stamp="$dest/.installed-$version"
linked() {
  [ -z "$link" ] && return 0
  mkdir -p "$(dirname "$link")"
  # (a folder from before the shared copy is replaced by the link)
  [ -L "$link" ] || rm -rf "$link"
  ln -sfn "$dest" "$link"
}
if [ -f "$stamp" ] && [ -x "$dest/node_modules/.bin/code-server" ]; then linked; exit 0; fi

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

# Installed beside its final place, then moved there whole: a checkout running this at the same time, or an
# install cut short, never leaves a half-installed copy where the next run would take it.
work="$dest.partial-$$"
rm -rf "$work"
mkdir -p "$work"
cd "$work"
echo '{"name":"hangar-vscode-harness","private":true}' > package.json
echo "Installing code-server $version into $dest (about 90 s on first run)..."
# nodedir: node-gyp builds native modules against this Node's own headers.
# yes: node-pty's postinstall runs `npx node-gyp`, which must not prompt.
npm_config_nodedir=/usr npm_config_yes=true npm install --no-audit --no-fund --loglevel=error --unsafe-perm \
  "code-server@$version" >install.log 2>&1 || { tail -40 install.log >&2; cd /; rm -rf "$work"; exit 1; }
touch "$work/.installed-$version"
cd /
if [ -f "$stamp" ]; then rm -rf "$work"; else rm -rf "$dest"; mv "$work" "$dest"; fi
linked
echo "code-server $version installed."
