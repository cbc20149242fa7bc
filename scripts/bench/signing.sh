#!/usr/bin/env bash
# Signing benchmark (RSA-2048): twinkey (criterion) next to the `openssl speed rsa2048` floor and
# the official SDK signers (pip oci, npm oci-common) on this machine, in this run. Writes the
# "Signing (RSA-2048)" section of BENCHMARKS.md. Run it on an otherwise idle machine.
#   scripts/bench/signing.sh            # full run
#   BENCH_ITERS=500 scripts/bench/signing.sh   # fewer SDK iterations
set -euo pipefail
source "$(dirname "$0")/../env.sh"
cd "$TWINKEY_ROOT"
source tests/crosscheck/deps.sh
crosscheck_deps
iters="${BENCH_ITERS:-2000}"
out="$CARGO_TARGET_DIR/bench-signing"
mkdir -p "$out"

if pgrep -x rustc >/dev/null || pgrep -f 'cargo-fuzz|libfuzzer' >/dev/null; then
  echo "warning: compilers or fuzzers are running; figures will be noisy" >&2
fi

step "build the criterion bench first (so compiling does not overlap the measurements)"
cargo bench --locked -p twinkey --bench signer --no-run

step "openssl speed -seconds 3 rsa2048 (CPU time, then -elapsed wall clock)"
openssl speed -seconds 3 rsa2048 2>/dev/null | tee "$out/openssl.txt" | tail -1
openssl speed -elapsed -seconds 3 rsa2048 2>/dev/null | tee "$out/openssl-elapsed.txt" | tail -1

step "criterion: crates/twinkey/benches/signer.rs"
TWINKEY_BENCH_CPU=1 cargo bench --locked -p twinkey --bench signer -- --noplot 2>&1 | tee "$out/criterion.txt" |
  grep -E '^(sign|plan|verify)|time:|cpu-time:'

step "pip oci: oci.signer.Signer ($iters requests x 5 rounds)"
"$CROSSCHECK_PY" tests/crosscheck/bench_oci_python.py "$iters" | tee "$out/oci_python.json"

step "npm oci-common: DefaultRequestSigner ($iters requests x 5 rounds)"
node tests/crosscheck/bench_oci_common.mjs "$iters" | tee "$out/oci_common.json"

step "BENCHMARKS.md: Signing (RSA-2048)"
python3 - "$out" "$CARGO_TARGET_DIR/criterion" <<'PY'
import glob, json, os, re, subprocess, sys, time
out, crit = sys.argv[1], sys.argv[2]

def openssl(name):
    f = [l for l in open(f"{out}/{name}") if l.startswith("rsa 2048 bits")][0].split()
    return 1e6 / float(f[5]), 1e6 / float(f[6])  # µs per sign, per verify

cpu_sign, cpu_verify = openssl("openssl.txt")
wall_sign, wall_verify = openssl("openssl-elapsed.txt")
ossl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.split()[1]
crit_us = {}
for bench in glob.glob(f"{crit}/*/new/benchmark.json"):
    b = json.load(open(bench))
    est = json.load(open(os.path.join(os.path.dirname(bench), "estimates.json")))
    crit_us[b["full_id"]] = est["median"]["point_estimate"] / 1000
crit_cpu = {}
for l in open(f"{out}/criterion.txt"):
    m = re.match(r"cpu-time: (.+): ([0-9.]+) us/op", l)
    if m:
        crit_cpu[m.group(1)] = float(m.group(2))
py = json.load(open(f"{out}/oci_python.json"))
js = json.load(open(f"{out}/oci_common.json"))
cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
load = open("/proc/loadavg").read().split()[:3]

O = f"OpenSSL {ossl}"
C = "twinkey (aws-lc-rs 1.19.0)"
rows = [
    ("sign", "`openssl speed rsa2048`: one RSA-2048 sign (**floor**)", O, wall_sign, cpu_sign),
    ("sign", "twinkey `Signer::sign`, GET", C, crit_us["sign GET (RSA-2048)"], crit_cpu["sign GET (RSA-2048)"]),
    ("sign", "twinkey `Signer::sign`, POST 1 KiB", C, crit_us["sign POST 1 KiB (RSA-2048)"],
     crit_cpu["sign POST 1 KiB (RSA-2048)"]),
    ("sign", "twinkey `signer::plan`, POST 1 KiB (all but RSA)", "twinkey", crit_us["plan POST 1 KiB (no RSA)"], None),
    ("sign", "pip `oci` `Signer`, GET", py["peer"], py["get"], py["get_cpu"]),
    ("sign", "pip `oci` `Signer`, POST 1 KiB", py["peer"], py["post_1k"], py["post_1k_cpu"]),
    ("sign", "npm `oci-common` `DefaultRequestSigner`, GET", js["peer"], js["get"], js["get_cpu"]),
    ("sign", "npm `oci-common` `DefaultRequestSigner`, POST 1 KiB", js["peer"], js["post_1k"], js["post_1k_cpu"]),
    ("verify", "`openssl speed rsa2048`: one RSA-2048 verify (floor)", O, wall_verify, cpu_verify),
    ("verify", "twinkey `verify_request`, POST 1 KiB", C, crit_us["verify POST 1 KiB (RSA-2048)"],
     crit_cpu["verify POST 1 KiB (RSA-2048)"]),
]
fmt = lambda us: "–" if us is None else f"{us:,.1f}"
table = ["| what | implementation | µs wall | µs CPU | CPU × floor |", "|---|---|---:|---:|---:|"]
for kind, what, impl, wall, cpu in rows:
    floor = cpu_verify if kind == "verify" else cpu_sign
    ratio = "–" if cpu is None else f"{cpu / floor:.2f}"
    table.append(f"| {what} | {impl} | {fmt(wall)} | {fmt(cpu)} | {ratio} |")
section = f"""## Signing (RSA-2048)

One OCI request signature ("Signature version 1", rsa-sha256) with a 2048-bit key. Produced by
`scripts/bench/signing.sh` on {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC ({cpu_model}, {os.cpu_count()} cores, load average
{' '.join(load)} at the end of the run), all rows from that one run.

- **Floor**: OpenSSL's own RSA-2048 private-key operation, `openssl speed -seconds 3 rsa2048`
  ({1e6 / cpu_sign:,.0f} sign/s by CPU time; `-elapsed` for the wall-clock column).
- **twinkey**: `crates/twinkey/benches/signer.rs`: criterion medians (wall); the CPU column is the
  same bench's 3-second loop timed by the thread's on-CPU time (`/proc/thread-self/schedstat`).
- **Peers** (baselines for the Python and Node bindings): pip `oci` and npm `oci-common` signing the
  same GET and 1 KiB POST, median of 5 rounds after warm-up (`tests/crosscheck/bench_oci_python.py`,
  `bench_oci_common.mjs`); Python's row excludes copying the prepared request; Node's CPU column
  is the process's user+system time.
- The machine is shared with other builds, so the wall-clock column is noisy; compare the CPU
  columns (what `openssl speed` itself reports).

{chr(10).join(table)}
"""
path = "BENCHMARKS.md"
text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\nEach section names the script that produced it.\n"
pattern = re.compile(r"^## Signing \(RSA-2048\)\n.*?(?=^## |\Z)", re.S | re.M)
if pattern.search(text):
    text = pattern.sub(lambda _: section.rstrip("\n") + "\n\n", text)
else:
    text = text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text.rstrip("\n") + "\n")
print("\n".join(table))
PY
