#!/usr/bin/env bash
# A real single-node Slurm cluster on this machine (docs/cluster.md): munged, slurmctld and
# slurmd started here with their config, state, spool and logs in a temporary directory and
# only localhost addresses, then
#   1. a small study submitted with `trikv study --slurm` as a 4-task array plus its merge job
#      must merge into the same points, keys and order as the study run unsharded;
#   2. a shard cancelled mid-run leaves the merge incomplete, naming the shard; resubmitting only
#      that array task measures only its unfinished points and completes the study.
# Stops exactly the daemons it started (by pid), also on failure. Installs the Debian packages
# slurmctld, slurmd, slurm-client and munge if missing (needs root, as in CI). Exit 77 (ctest:
# skipped) only when the cluster cannot be started here, with the reason.
# Usage: run_slurm_test.sh TRIKV_EXECUTABLE
set -euo pipefail
trikv=$(realpath "$1")
skip() { echo "SKIPPED: $*" >&2; exit 77; }
fail() { echo "FAILED: $*" >&2; exit 1; }

packages=(slurmctld slurmd slurm-client munge)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || skip "${missing[*]} not installed and not root to install them"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get -o DPkg::Lock::Timeout=600 update -qq &&
      apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } ||
    skip "apt-get could not install ${missing[*]}"
fi
[ "$(id -u)" -eq 0 ] || skip "slurmd runs jobs as any user only as root; run as root (CI does)"

work=$(mktemp -d /tmp/trikv-slurm-test.XXXXXX)
chmod 711 "$work"  # munged wants its socket's directory searchable by all
pids=()
stop_daemons() {
  local status=$?
  # Jobs first: their slurmstepd processes outlive slurmd by design.
  if [ ${#pids[@]} -ge 3 ]; then
    jobs=$(squeue -h -o %A 2>/dev/null | tr '\n' ' ')
    [ -n "$jobs" ] && scancel $jobs 2>/dev/null
    for _ in $(seq 100); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.1; done
  fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ $status -ne 0 ] && [ $status -ne 77 ]; then
    for log in "$work"/log/*.log "$work"/*/slurm/*.log; do [ -f "$log" ] && { echo "== $log"; tail -n 20 "$log"; }; done >&2
  fi
  rm -rf "$work"
  exit $status
}
trap stop_daemons EXIT
trap 'exit 1' INT TERM
mkdir -p "$work"/{state,spool,log,munge}

# munge: a fresh key and a socket of our own.
head -c 1024 /dev/urandom > "$work/munge/munge.key"
chmod 400 "$work/munge/munge.key"
munged --foreground --force --key-file="$work/munge/munge.key" --socket="$work/munge/socket" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/log/munged.log" --seed-file="$work/munge/seed" &
pids+=($!)

# Ports from the pid, so that two runs of this test on one machine do not collide.
port=$((20000 + 2 * ($$ % 10000)))
node=$(uname -n | cut -d. -f1)  # the short host name slurmd registers as
memory=$(awk '/^MemTotal:/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)  # MB
export SLURM_CONF="$work/slurm.conf"
cat > "$SLURM_CONF" <<CONF
ClusterName=trikvtest
SlurmctldHost=localhost
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/socket
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmdSpoolDir=$work/spool
StateSaveLocation=$work/state
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$memory State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
for _ in $(seq 50); do [ -S "$work/munge/socket" ] && break; sleep 0.1; done
[ -S "$work/munge/socket" ] || skip "munged did not start: $(tail -n 3 "$work/log/munged.log" 2>/dev/null)"
slurmctld -D -c -f "$SLURM_CONF" > "$work/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" > "$work/log/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  [ "$(sinfo -h -o %t 2>/dev/null)" = "idle" ] && break
  sleep 0.2
done
[ "$(sinfo -h -o %t 2>/dev/null)" = "idle" ] ||
  skip "the local cluster did not come up: $(tail -n 3 "$work/log/slurmctld.out" "$work/log/slurmd.out")"
echo "local cluster up: node $node, $(nproc) cpus, ports $port-$((port + 1))"

# Waits until none of the given jobs is queued or running (bounded).
wait_jobs() {
  local deadline=$((SECONDS + 120))
  while [ -n "$(squeue -h -j "$1" 2>/dev/null)" ]; do
    [ $SECONDS -lt $deadline ] || fail "jobs $1 still queued after 120 s: $(squeue -h -j "$1")"
    sleep 0.5
  done
}
# `trikv study --slurm` says "submitted: shards as array job A, merge as job M".
submitted_jobs() { sed -n 's/^submitted: shards as array job \([0-9]*\), merge as job \([0-9]*\)$/\1 \2/p' "$1"; }
# Lines in a file (0 if it does not exist yet).
lines_of() { if [ -f "$1" ]; then awk 'END {print NR}' "$1"; else echo 0; fi; }
# The configuration and outcome of each row of a results.csv, in order (no timings).
rows_of() {
  python3 -c 'import csv, sys
for r in csv.DictReader(open(sys.argv[1])): print(r["key"], r["cache"], r["n"], r["d"], r["status"])' "$1"
}

cd "$work"
cat > study.toml <<'TOML'
name = "slurm-small"
caches = ["product", "factor:strategy=recompute", "factor:strategy=fused", "matrix"]
n = [32, 64, 128]
d = [16]
warmup = 0
repetitions = 1
threads = 1
measure_peaks = false
figures = ["pareto"]
TOML

# 1. Sharded on Slurm = unsharded.
start=$SECONDS
"$trikv" study study.toml --out "$work/whole" 2> whole.err || { cat whole.err >&2; fail "unsharded study"; }
echo "unsharded: $((SECONDS - start)) s"
start=$SECONDS
"$trikv" study study.toml --out "$work/sharded" --slurm --shards 4 --cpus 1 2> submit.err ||
  { cat submit.err >&2; fail "--slurm submission"; }
read -r array merge < <(submitted_jobs submit.err)
[ -n "${merge:-}" ] || { cat submit.err >&2; fail "no job ids in the --slurm output"; }
wait_jobs "$array,$merge"
echo "sharded on the local cluster (4 tasks + merge): $((SECONDS - start)) s"
[ "$(ls sharded/shards/*.toml | wc -l)" -eq 4 ] || fail "expected 4 shard state files: $(ls sharded/shards)"
grep -Eq "^slurm_job = [\"']${array}_0[\"']" sharded/shards/0-of-4.toml || fail "shard 0/4's state does not name its array task"
"$trikv" study sharded/slurm/study.toml --status > status.txt
grep -q "^4 done, 0 running, 0 failed, 0 not started$" status.txt || { cat status.txt >&2; fail "--status"; }
grep -q '"state": "complete"' sharded/results.json || fail "merged results.json is not complete"
diff <(rows_of whole/results.csv) <(rows_of sharded/results.csv) >&2 || fail "merged rows differ from the unsharded run"
[ "$(rows_of sharded/results.csv | cut -d' ' -f1 | sort | uniq -d | wc -l)" -eq 0 ] || fail "a key appears twice"
[ -f sharded/pareto.csv ] && [ -f sharded/figures/pareto.csv ] || fail "merge wrote no fronts or figures"
echo "merged == unsharded: $(rows_of sharded/results.csv | wc -l) points, each once"

# 2. Cancel shard 1 of 2 mid-run, then resubmit only it.
cat > slow.toml <<'TOML'
name = "slurm-kill"
caches = ["factor:strategy=recompute"]
n = [512, 576, 640, 704, 768, 832]
d = [32]
warmup = 0
repetitions = 3
threads = 1
measure_peaks = false
figures = []
TOML
"$trikv" study slow.toml --out "$work/killed" --slurm --shards 2 --cpus 1 2> submit2.err ||
  { cat submit2.err >&2; fail "--slurm submission"; }
read -r array merge < <(submitted_jobs submit2.err)
deadline=$((SECONDS + 60))
until [ "$(lines_of killed/shards/1-of-2.csv)" -ge 2 ]; do  # header + one point
  [ $SECONDS -lt $deadline ] || fail "shard 1/2 wrote no point within 60 s"
  sleep 0.1
done
grep -Eq "^state = [\"']running[\"']" killed/shards/1-of-2.toml || fail "shard 1/2 finished before it could be cancelled; make slow.toml slower"
scancel "${array}_1"
wait_jobs "$array,$merge"
grep -q '"state": "incomplete"' killed/results.json || fail "the merge after a cancelled shard is not marked incomplete"
grep -q "shard 1/2: .* points missing" killed/slurm/merge.log || { cat killed/slurm/merge.log >&2; fail "the merge does not name the missing shard"; }
written=$(($(lines_of killed/shards/1-of-2.csv) - 1))
resubmitted=$(sbatch --parsable --array=1 killed/slurm/shards.sbatch)
merged=$(sbatch --parsable --dependency=afterany:"$resubmitted" killed/slurm/merge.sbatch)
wait_jobs "$resubmitted,$merged"
grep -q "shard 1/2 done: .* $written resumed" "killed/slurm/shard-1-of-2.log" ||
  { tail -n 5 killed/slurm/shard-1-of-2.log >&2; fail "the rerun shard did not resume its $written finished points"; }
grep -q '"state": "complete"' killed/results.json || fail "the study is not complete after resubmitting shard 1"
[ "$(rows_of killed/results.csv | cut -d' ' -f1 | sort -u | wc -l)" -eq 6 ] || fail "expected 6 points, each once"
[ "$(rows_of killed/results.csv | wc -l)" -eq 6 ] || fail "a point appears twice"
echo "cancelled shard resubmitted: $written points resumed, study complete"
