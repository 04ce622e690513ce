#!/usr/bin/env bash
# Install nalu_sr into the active environment (SRBench runs this inside the
# method's environment). Set NALU_SR_SOURCE to a checkout of nalu_sr or to any
# pip requirement (a path, a git URL, a pinned version); default: "nalu_sr".
set -euo pipefail

# The CPU build of PyTorch: SRBench runs on CPUs, and the CUDA build is
# several GB.
pip install torch --index-url https://download.pytorch.org/whl/cpu
pip install "${NALU_SR_SOURCE:-nalu_sr}"
python -c "import nalu_sr; print('nalu_sr', nalu_sr.__version__)"
