#!/usr/bin/env bash
# Install the coding CLIs the agent contract tests drive, at the versions they were tested with,
# into one cache directory (default ~/.cache/crewchief-agents; override with CREWCHIEF_AGENTS_DIR).
# A stamp file keyed on this script's content makes a second run a no-op. Prints the bin directory.
# Called by `make test` and .ci/run; the tests find the CLIs through CREWCHIEF_AGENTS_DIR/bin.
set -euo pipefail
DIR="${CREWCHIEF_AGENTS_DIR:-$HOME/.cache/crewchief-agents}"
PYTHON="${PYTHON:-python3}"
# Pinned: the versions the contract tests ran against (tests/agents/test_real_clis.py).
AIDER=aider-chat==0.86.2
MINI=mini-swe-agent==2.4.6
# aider and mini pull litellm; 1.82.7 and 1.82.8 carried a credential stealer. Pin a safe one.
LITELLM=litellm==1.81.10
NPM_PACKAGES=(@openai/codex@0.171.0 @anthropic-ai/claude-code@2.1.332 opencode-ai@1.18.33)
stamp="$DIR/.stamp-$(sha256sum "$0" | cut -c1-16)"
if [ -f "$stamp" ]; then echo "$DIR/bin"; exit 0; fi
mkdir -p "$DIR/bin"
echo "$LITELLM" > "$DIR/constraints.txt"
for spec in "aider:$AIDER" "mini:$MINI"; do
  name="${spec%%:*}" pkg="${spec#*:}"
  [ -x "$DIR/venv-$name/bin/python" ] || "$PYTHON" -m venv "$DIR/venv-$name"
  "$DIR/venv-$name/bin/pip" install --quiet --disable-pip-version-check -c "$DIR/constraints.txt" "$pkg" "$LITELLM" >&2
  found=$("$DIR/venv-$name/bin/pip" show litellm 2>/dev/null | sed -n 's/^Version: //p')
  case "$found" in 1.82.7|1.82.8) echo "refusing: $name pulled litellm $found" >&2; exit 1;; esac
done
ln -sf "$DIR/venv-aider/bin/aider" "$DIR/bin/aider"
ln -sf "$DIR/venv-mini/bin/mini" "$DIR/bin/mini"
npm install --silent --no-audit --no-fund --prefix "$DIR/npm" "${NPM_PACKAGES[@]}" >&2
for tool in codex claude opencode; do ln -sf "$DIR/npm/node_modules/.bin/$tool" "$DIR/bin/$tool"; done
rm -f "$DIR"/.stamp-*
touch "$stamp"
echo "$DIR/bin"
