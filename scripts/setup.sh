#!/usr/bin/env bash
# Installs what the project needs, idempotently: the locked Python packages (into .venv, with uv), the
# pinned cdktf CLI (into node_modules), and the Terraform CLI config (provider mirror or registry).
# A step is skipped when what it installs is already there for the current lock file.
#
#   scripts/setup.sh demo   what `make demo` (up, down) runs: Pipfile's [packages] and the local emulator
#                           (scripts/demo-packages.txt), no node_modules (the demo never runs the cdktf CLI)
#   scripts/setup.sh [all]  everything: the whole Pipfile.lock, the cdktf CLI, the OPA engine (make test)
set -euo pipefail
cd "$(dirname "$0")/.."
export PIPENV_VENV_IN_PROJECT=1 PIPENV_VERBOSITY=-1 PIPENV_NOSPIN=1 PIP_DISABLE_PIP_VERSION_CHECK=1
export UV_NO_PROGRESS=1
profile=${1:-all}
case "$profile" in demo | all) ;; *) printf '[setup] error: unknown profile %s: give demo or all\n' "$profile" >&2; exit 2 ;; esac
mkdir -p .build
say() { printf '[setup] %s\n' "$*"; }
stamp_ok() { [ -f ".build/$1.stamp" ] && [ "$(cat ".build/$1.stamp")" = "$2" ]; }

fail() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

command -v python3 >/dev/null || fail "python3 is not installed: install Python 3.11 (https://www.python.org/downloads/)"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || fail "Python 3.11 or newer is needed, found $(python3 --version)"
command -v node >/dev/null || fail "Node.js is not installed: cdktf (jsii) needs Node.js 20 or newer"
command -v terraform >/dev/null \
  || fail "terraform is not on PATH: install Terraform 1.11 (https://developer.hashicorp.com/terraform/install)"

if ! command -v pipenv >/dev/null; then
  say "installing pipenv"
  python3 -m pip install --quiet "pipenv>=2024.0"
fi

# npm ci runs alongside the Python install (each mostly waits on downloads and disk): its output goes to a
# log that is shown when it fails.
npm_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
npm_pid=""
if [ "$profile" = all ] && { ! stamp_ok node "$npm_hash" || [ ! -x node_modules/.bin/cdktf ]; }; then
  say "installing the cdktf CLI into node_modules (alongside the Python packages)"
  npm ci --no-audit --no-fund --loglevel=error > .build/npm-ci.log 2>&1 &
  npm_pid=$!
  trap 'kill "$npm_pid" 2>/dev/null || true' EXIT  # a failed Python install leaves no npm behind
fi

# uv installs the locked packages, hash-checked, in seconds where `pipenv sync` takes minutes; it is pinned
# by hash itself (scripts/uv.txt) and lives in .build/uv, outside the project's environment.
uv=.build/uv/bin/uv
uv_hash=$(sha256sum scripts/uv.txt | cut -d' ' -f1)
if ! stamp_ok uv "$uv_hash" || [ ! -x "$uv" ]; then
  say "installing uv (the installer) into .build/uv"
  rm -rf .build/uv
  python3 -m pip install --quiet --no-deps --require-hashes --root-user-action=ignore --target .build/uv \
    -r scripts/uv.txt
  echo "$uv_hash" > .build/uv.stamp
fi

# Pipfile.lock stays the source of truth: pipenv writes its pins and hashes as requirements, and uv installs
# them with --require-hashes (every package, dependencies included, must be listed with a matching hash).
python_stamp=$(cat Pipfile.lock scripts/demo-packages.txt scripts/uv.txt | sha256sum | cut -d' ' -f1)
if stamp_ok python-all "$python_stamp" && [ -x .venv/bin/python ]; then
  : # the whole lock is installed, which holds the demo's packages
elif ! stamp_ok "python-$profile" "$python_stamp" || [ ! -x .venv/bin/python ]; then
  if [ ! -x .venv/bin/python ]; then
    # --seed: pip and setuptools, which building the wheel (tests/package) and the OPA download use.
    "$uv" venv --quiet --seed --python "$(command -v python3)" .venv
  fi
  requirements=.build/requirements-$profile.txt
  if [ "$profile" = demo ]; then
    say "installing the demo's locked Python packages into .venv (scripts/demo-packages.txt)"
    { pipenv requirements --hash
      pipenv requirements --hash --dev-only | grep -E "^($(grep -v '^#' scripts/demo-packages.txt | paste -sd'|'))(\[[^]]*\])?=="
    } > "$requirements"
  else
    say "installing the locked Python packages into .venv"
    pipenv requirements --hash --dev > "$requirements"
  fi
  # The test suite imports nearly every package from several workers at once: compiling the bytecode here,
  # once and on every core, spares each worker compiling the same modules. The demo imports a small part of
  # the provider bindings (448 MB of Python): it compiles what it imports, on first use.
  compile=$([ "$profile" = all ] && echo --compile-bytecode || true)
  "$uv" pip install --quiet $compile --python .venv/bin/python --require-hashes -r "$requirements"
  echo "$python_stamp" > ".build/python-$profile.stamp"
fi
# The project's own sources, compiled here as the packages are: these machines set PYTHONDONTWRITEBYTECODE=1,
# so otherwise every process (each test worker, each `python -m tools`, each synth) compiles each project
# module it imports, every time. compileall skips what is current, so a second setup costs a few stats.
.venv/bin/python -m compileall -q modules tools handlers tests main.py > /dev/null
# jsii's package cache (tools/jsii_cache.py): filled here, once per machine and alongside npm ci, rather than by
# the test workers starting together on a cold cache; a few stats when it is complete. Not for the demo, whose
# one synthesizing process would only load the bindings a second time.
jsii_pid=""
if [ "$profile" = all ]; then
  .venv/bin/python -m tools.jsii_cache > .build/jsii-cache.log 2>&1 &
  jsii_pid=$!
fi
if [ -n "$npm_pid" ]; then
  wait "$npm_pid" || { cat .build/npm-ci.log >&2; fail "npm ci failed (its output is above)"; }
  trap - EXIT
  echo "$npm_hash" > .build/node.stamp
fi

say "terraform CLI config: $(.venv/bin/python -m tools.terraform_cli)"
if [ -n "$jsii_pid" ]; then
  wait "$jsii_pid" || { cat .build/jsii-cache.log >&2; fail "filling jsii's package cache failed (its output is above)"; }
  say "$(tail -1 .build/jsii-cache.log)"
fi

# The OPA engine (Go, v1.20.2) for the tests that check the Rego policies against it as well as against
# regopy: PyPI's opa-golib-python-bindings is a py3-none wheel holding OPA as a C shared library and a
# stdlib-only ctypes wrapper. It declares Python >= 3.14, which neither the locked interpreter (3.11) nor
# Debian bookworm has, so it is not a locked package: the pinned wheel is downloaded by hash and unpacked
# into .build/opa, where only the tests load it (the wrapper runs on 3.11). Linux x86_64 only: elsewhere
# the tests that need it say so and are skipped.
opa_requirement=scripts/opa-engine.txt
opa_hash=$(sha256sum "$opa_requirement" | cut -d' ' -f1)
if [ "$profile" = all ] && [ "$(uname -sm)" = "Linux x86_64" ] && { ! stamp_ok opa "$opa_hash" || [ ! -f .build/opa/opa_bindings/libopabridge.so ]; }; then
  say "unpacking the OPA engine for the policy tests into .build/opa"
  rm -rf .build/opa .build/opa-wheel
  .venv/bin/python -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.14 \
    --platform manylinux_2_34_x86_64 --require-hashes -r "$opa_requirement" -d .build/opa-wheel
  .venv/bin/python -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
    .build/opa-wheel/*.whl .build/opa
  echo "$opa_hash" > .build/opa.stamp
fi
