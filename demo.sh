#!/usr/bin/env sh
# The main job: builds the `locket` command and runs two invocations that take turns on one lock
# file (and a third that does not wait). See locket-cli/demo.sh.
exec "$(dirname "$0")/locket-cli/demo.sh" "$@"
