#!/usr/bin/env bash
# What CI runs, locally: formatting, lints, tests.
exec bash "$(dirname "$0")/../.ci/run"
