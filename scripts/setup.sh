#!/usr/bin/env bash
# Install what certsvc and token_agent need on a Debian machine: the Debian packages
# (SoftHSM, OpenSC, poppler, NSS tools, qpdf, Liberation fonts, zbar for the tests that read printed QR codes,
# Python and its headers, headless Chromium and its driver for the browser tests) and the Python environment.
# Python 3.11 to 3.13 (Debian 12 ships 3.11, Ubuntu 24.04 3.12, Debian 13 3.13): the system's python3 when it
# is one of them. `--python PROGRAM --venv DIR` makes another environment (CI's second-Python run).
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

python=""
venv=.venv
while (($#)); do
  case "$1" in
    --python) python="${2:?--python needs a program}"; shift 2 ;;
    --venv) venv="${2:?--venv needs a directory}"; shift 2 ;;
    *) echo "usage: scripts/setup.sh [--python PROGRAM] [--venv DIR]" >&2; exit 2 ;;
  esac
done

DEBIAN_PACKAGES=(
  python3 python3-venv python3-dev build-essential
  softhsm2 opensc poppler-utils libnss3-tools qpdf fonts-liberation2 zbar-tools
  chromium chromium-driver
)

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]})); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "setup: installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The versions requires-python in pyproject.toml accepts (keep the two in step). Running the program, not
# just finding it: a pyenv shim is on PATH for every version pyenv has but runs only the selected ones.
supported() {
  "$1" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' >/dev/null 2>&1
}

if [ -z "$python" ]; then
  for candidate in python3 python3.13 python3.12 python3.11; do
    if supported "$candidate"; then
      python="$candidate"
      break
    fi
  done
fi
if [ -z "$python" ] || ! supported "$python"; then
  echo "setup: Python 3.11, 3.12 or 3.13 is required (${python:-python3} is not one of them)" >&2
  exit 1
fi

if ! supported "$venv/bin/python"; then
  echo "setup: creating $venv with $python ($("$python" -V 2>&1))"
  "$python" -m venv --clear "$venv"
fi

# Reinstall only when the dependency list changed since the last successful install.
stamp="$venv/.certsvc-installed"
wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  echo "setup: installing the Python environment in $venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -e '.[test]'
  echo "$wanted" >"$stamp"
fi
