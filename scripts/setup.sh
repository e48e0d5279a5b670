#!/usr/bin/env bash
# Installs what the project needs, idempotently: pipenv, the locked Python packages (into .venv),
# the pinned cdktf CLI (into node_modules), and the Terraform CLI config (provider mirror or registry).
# A step is skipped when what it installs is already there for the current lock file.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIPENV_VENV_IN_PROJECT=1 PIPENV_VERBOSITY=-1 PIPENV_NOSPIN=1 PIP_DISABLE_PIP_VERSION_CHECK=1
mkdir -p .build

say() { printf '[setup] %s\n' "$*"; }
stamp_ok() { [ -f ".build/$1.stamp" ] && [ "$(cat ".build/$1.stamp")" = "$2" ]; }

fail() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

command -v python3 >/dev/null || fail "python3 is not installed: install Python 3.11 (https://www.python.org/downloads/)"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || fail "Python 3.11 or newer is needed, found $(python3 --version)"
command -v node >/dev/null || fail "Node.js is not installed: the cdktf CLI needs Node.js 20 or newer"
command -v terraform >/dev/null \
  || fail "terraform is not on PATH: install Terraform 1.11 (https://developer.hashicorp.com/terraform/install)"

if ! command -v pipenv >/dev/null; then
  say "installing pipenv"
  python3 -m pip install --quiet "pipenv>=2024.0"
fi

lock_hash=$(sha256sum Pipfile.lock | cut -d' ' -f1)
if ! stamp_ok python "$lock_hash" || [ ! -x .venv/bin/python ]; then
  say "installing the locked Python packages into .venv (first run: about 2 minutes)"
  pipenv sync --dev
  echo "$lock_hash" > .build/python.stamp
fi

npm_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if ! stamp_ok node "$npm_hash" || [ ! -x node_modules/.bin/cdktf ]; then
  say "installing the cdktf CLI into node_modules"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$npm_hash" > .build/node.stamp
fi

say "terraform CLI config: $(.venv/bin/python -m tools.terraform_cli)"
