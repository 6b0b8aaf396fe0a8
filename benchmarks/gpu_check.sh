#!/usr/bin/env bash
# All three full profiles (3 seeds each) in ONE call on one GPU machine, through the job runner:
# every method's jobs share the GPU (several tiny models at once, --workers). Logs, per-job times,
# GPU utilisation samples and the claims (intervals over seeds) land under one folder.
#
#   bash benchmarks/gpu_check.sh [OUT_DIR]          (default: $OUT, else ./gpu-check)
#
# On the workplace's H200 (python3 there already holds torch, transformers, peft, accelerate, pandas,
# scikit-learn, ...): the packages it lacks travel as wheels in .whl/ (see benchmarks/gpu_wheels.txt),
# installed into /tmp/site with --no-index; nothing is downloaded. Budget: <= 9 min wall.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-${OUT:-gpu-check}}
mkdir -p "$out"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1 WORKBENCH_HOME="$out/store"
PY=${PYTHON:-python3}
if [ -d .whl ]; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH} || { echo "wheel install failed"; exit 1; }
else
  export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
# GPU utilisation every 2 s while the builds run
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv,noheader -l 2 > "$out/gpu_util.csv" &
smi=$!
start=$(date +%s)
timeout 540 $PY -c "from workbench.cli import main; main()" build all --profile full --workers "${WORKERS:-12}" \
  2>&1 | tr '\r' '\n' | grep -v '^\s*$' | awk 'NR % 20 == 1 || /built|error|Error/' | tee "$out/build.log"
status=${PIPESTATUS[0]}
kill $smi 2>/dev/null
echo "wall seconds: $(( $(date +%s) - start )), exit $status" | tee -a "$out/build.log"
$PY -c "from workbench.cli import main; main()" claims --profile full | tee "$out/claims.txt"
$PY -c "from workbench.cli import main; main()" claims --profile full --json > "$out/claims.json"
# per-job seconds of every run, and mean GPU utilisation
$PY - "$out" <<'PY' | tee "$out/jobs.txt"
import json, sys, pathlib, statistics
out = pathlib.Path(sys.argv[1])
for manifest in sorted(out.glob("store/*/*/manifest.json")):
    run = manifest.parent
    jobs = json.loads((run / "jobs.json").read_text()) if (run / "jobs.json").exists() else {}
    m = json.loads(manifest.read_text())
    print(f"{m['method']}: build {m.get('build_seconds', 0):.0f}s, {len(jobs)} jobs, "
          f"job seconds sum {sum(j['seconds'] for j in jobs.values()):.0f}, longest "
          f"{max((j['seconds'] for j in jobs.values()), default=0):.0f}s")
    for name, t in sorted(jobs.items(), key=lambda kv: -kv[1]["seconds"])[:8]:
        print(f"    {name:<32} {t['seconds']:8.1f}s")
util = [float(l.split(",")[1].split()[0]) for l in (out / "gpu_util.csv").read_text().splitlines() if l.count(",") >= 2]
if util:
    print(f"GPU utilisation: mean {statistics.mean(util):.0f}%, samples {len(util)}")
PY
exit $status
