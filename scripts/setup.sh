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

# The OPA engine (Go, v1.20.2) for the tests that check the Rego policies against it as well as against
# regopy: PyPI's opa-golib-python-bindings is a py3-none wheel holding OPA as a C shared library and a
# stdlib-only ctypes wrapper. It declares Python >= 3.14, which neither the locked interpreter (3.11) nor
# Debian bookworm has, so it is not a locked package: the pinned wheel is downloaded by hash and unpacked
# into .build/opa, where only the tests load it (the wrapper runs on 3.11). Linux x86_64 only: elsewhere
# the tests that need it say so and are skipped.
opa_requirement=scripts/opa-engine.txt
opa_hash=$(sha256sum "$opa_requirement" | cut -d' ' -f1)
if [ "$(uname -sm)" = "Linux x86_64" ] && { ! stamp_ok opa "$opa_hash" || [ ! -f .build/opa/opa_bindings/libopabridge.so ]; }; then
  say "unpacking the OPA engine for the policy tests into .build/opa"
  rm -rf .build/opa .build/opa-wheel
  .venv/bin/python -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.14 \
    --platform manylinux_2_34_x86_64 --require-hashes -r "$opa_requirement" -d .build/opa-wheel
  .venv/bin/python -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
    .build/opa-wheel/*.whl .build/opa
  echo "$opa_hash" > .build/opa.stamp
fi
