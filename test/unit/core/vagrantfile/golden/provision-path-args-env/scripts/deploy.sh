#!/usr/bin/env bash
set -euo pipefail
cd /srv/app && RAILS_ENV="$1" bin/rails db:migrate
