#!/bin/sh
# Prepare this checkout on a fresh Debian or Ubuntu (or any machine that has what it needs):
# the system packages that are missing, then a virtual environment in .venv with pkgindex in it.
#
#   sh setup.sh          pkgindex itself: python3-venv and git if missing, .venv, pip install .
#   sh setup.sh --test   the same, plus chromium (the browser test) and the test tools, editable
#
# A system Python refuses `pip install` outside a virtual environment (PEP 668), so nothing is
# installed into it. System packages come from apt-get (as root, else through sudo).
set -eu
cd "$(dirname "$0")"

tests=no
case "${1:-}" in
  --test) tests=yes ;;
  "") ;;
  *) echo "usage: sh setup.sh [--test]" >&2; exit 2 ;;
esac

missing=""
python3 -c "import ensurepip, venv" 2>/dev/null || missing="$missing python3-venv"
command -v git >/dev/null 2>&1 || missing="$missing git"
if [ "$tests" = yes ] && ! command -v chromium >/dev/null 2>&1; then
  missing="$missing chromium"
fi
if [ -n "$missing" ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: missing:$missing" >&2
    echo "hint: install them with your system's package manager, then run this again" >&2
    exit 1
  fi
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "setup: installing$missing with apt-get" >&2
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
if [ "$tests" = yes ]; then
  .venv/bin/python -m pip install -q -e '.[test]'
else
  .venv/bin/python -m pip install -q .
fi
