#!/bin/sh
# usage: install-etcd.sh <name> <ip>
set -eu
echo "installing etcd ${ETCD_VERSION} on $1 ($2)"
