#!/bin/bash
set -euo pipefail
echo "worker $*"
