#!/usr/bin/env bash
# The system packages the test suite needs: bubblewrap (the worker sandbox), chromium (the review
# page's browser tests), git. Installs the missing ones with apt-get where it has the rights;
# otherwise stops at once naming them. Never lets the suite start without them: a missing sandbox
# or browser would otherwise show up as errors halfway through the run.
set -euo pipefail

need=(bwrap:bubblewrap chromium:chromium git:git)
missing=()
for pair in "${need[@]}"; do
  cmd=${pair%%:*} pkg=${pair##*:}
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${missing[@]}" >/dev/null
  exit 0
fi
echo "make test needs these system packages: ${missing[*]}" >&2
echo "install them first, e.g.: sudo apt-get install -y ${missing[*]}" >&2
exit 1
