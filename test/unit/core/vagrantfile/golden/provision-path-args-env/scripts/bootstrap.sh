#!/usr/bin/env bash
# usage: bootstrap.sh [--with-docker] [--user NAME]
set -euo pipefail
echo "bootstrap: $*"
