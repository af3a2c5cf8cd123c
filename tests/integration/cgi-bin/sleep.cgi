#!/bin/sh
# sleep.cgi: never answers; runs a background child too, in its process
# group, which must die with it.
sleep 600 &
sleep 601
