#!/bin/sh
echo "app setup $1"
