#!/usr/bin/env bash
# On a machine with a GPU: the gpu-marked tests, then the GPU configurations of the backend
# benchmark (float32 and float64; step-time ratios, peak memory) and its CPU baseline, each with
# a time limit, all in under 8 minutes. Results: benchmarks/results/bench_backends_gpu_*.json.
# Usage: benchmarks/gpu_check.sh   (from the repository root; docs/distributed.md, "GPUs")
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD TF_CPP_MIN_LOG_LEVEL=2
start=$(date +%s)
nvidia-smi --query-gpu=name,memory.total --format=csv || echo "nvidia-smi not found"
timeout 180 python3 -m pytest -q -n 0 -m gpu tests/test_gpu.py; status=$?
for dtype in float32 float64; do
  timeout 120 python3 benchmarks/bench_backends.py --device gpu --dtype "$dtype" --repeats 3 \
    --width 1024 --batch 256 --n-steps 50 --overwrite \
    --out "benchmarks/results/bench_backends_gpu_${dtype}.json" || status=1
done
timeout 120 python3 benchmarks/bench_backends.py --device cpu --repeats 3 --width 1024 --batch 256 \
  --n-steps 20 --no-multihost --out benchmarks/results/bench_backends_cpu_for_gpu.json --overwrite \
  || status=1
echo "gpu_check took $(( $(date +%s) - start )) s (exit $status)"
exit $status
