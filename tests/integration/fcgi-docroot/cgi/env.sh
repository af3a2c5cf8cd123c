#!/bin/sh
echo "Content-Type: text/plain"
echo
env | LC_ALL=C sort
