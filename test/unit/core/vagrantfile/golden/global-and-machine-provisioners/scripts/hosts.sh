#!/bin/sh
# usage: hosts.sh <role>
echo "192.168.56.21 api.$1.local" >> /etc/hosts
