#!/bin/sh
set -eu
apt-get update -qq
apt-get install -y -qq chrony
