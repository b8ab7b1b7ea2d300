#!/bin/sh
# Regenerate the shell completion scripts from the Typer app. Typer's completion protocol:
# `_KRAKENFIX_COMPLETE=source_<shell> krakenfix` prints the script, and the script calls
# back into `krakenfix` with _KRAKENFIX_COMPLETE=complete_<shell> to complete a word.
# tests/cli/test_completions.py fails when a checked-in script differs from a fresh one.
# Usage: sh completions/generate.sh [python]   (default: python3 on PATH)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
py=${1:-python3}
for shell in bash zsh fish; do
    _KRAKENFIX_COMPLETE="source_$shell" "$py" -m krakenfix_cli > "$here/krakenfix.$shell"
done
