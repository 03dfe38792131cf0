#!/usr/bin/env bash
set -euo pipefail
sudo -u postgres dropdb --if-exists app_development
