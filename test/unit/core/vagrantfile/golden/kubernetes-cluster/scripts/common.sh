#!/bin/bash
set -euo pipefail
echo "common $*"
