#!/bin/sh
# crash.cgi: killed by a signal before any output.
kill -SEGV $$
