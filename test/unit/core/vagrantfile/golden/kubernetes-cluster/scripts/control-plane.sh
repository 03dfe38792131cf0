#!/bin/bash
set -euo pipefail
echo "control-plane $*"
