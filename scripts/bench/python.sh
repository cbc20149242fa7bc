#!/usr/bin/env bash
# Python benchmarks, written to the "Python" section of BENCHMARKS.md (same run):
#   - sign one OCI request (RSA-2048): twinkey.Signer vs pip oci's oci.signer.Signer, next to
#     the `openssl speed -seconds 3 rsa2048` floor, and 2 threads signing at once vs 1;
#   - 2 000 loopback chat completions through openai-python 3.x against the emulator (release
#     build): `twinkey.openai.client(engine)` (Httpx2Auth) vs a plain `api_key`, and the
#     adapter's own cost over an in-memory transport.
# Run it on an otherwise idle machine.
#   scripts/bench/python.sh                                    # full run
#   BENCH_SIGN_ITERS=500 BENCH_REQUESTS=500 scripts/bench/python.sh   # quicker
set -euo pipefail
source "$(dirname "$0")/../env.sh"
cd "$TWINKEY_ROOT"
sign_iters="${BENCH_SIGN_ITERS:-2000}"
requests="${BENCH_REQUESTS:-2000}"
out="$CARGO_TARGET_DIR/bench-python"
V3="$TWINKEY_CACHE/venv-py-openai3"
mkdir -p "$out"

step "venv (openai 3.x + httpx2 + oci) and the extension (maturin build --release)"
python/tools/prepare.sh openai3
cargo build --release --locked -p twinkey-cli
emulator="$CARGO_TARGET_DIR/release/twinkey"

if pgrep -x rustc >/dev/null || pgrep -f 'cargo-fuzz|libfuzzer' >/dev/null; then
  echo "warning: compilers or fuzzers are running; figures will be noisy" >&2
fi
uptime | tee "$out/load.txt"

step "openssl speed -seconds 3 rsa2048"
openssl speed -seconds 3 rsa2048 2>/dev/null | tee "$out/openssl.txt" | tail -1
openssl speed -multi 2 -seconds 3 rsa2048 2>/dev/null | tee "$out/openssl-multi2.txt" | tail -1

step "sign one request: twinkey.Signer vs oci.signer.Signer ($sign_iters x 5 rounds), 2 threads vs 1"
"$V3/bin/python" python/bench/sign.py "$sign_iters" | tee "$out/sign.json"

step "$requests loopback requests through openai-python: Httpx2Auth(engine) vs plain api_key"
"$V3/bin/python" python/bench/loopback.py "$requests" "$emulator" | tee "$out/loopback.json"

step "BENCHMARKS.md: Python"
python3 - "$out" "$sign_iters" <<'PY'
import json, os, platform, re, subprocess, sys, time
out, iters = sys.argv[1], sys.argv[2]
def signs_per_s(name):
    return float([l for l in open(f"{out}/{name}") if l.startswith("rsa 2048 bits")][0].split()[5])
floor = 1e6 / signs_per_s("openssl.txt")
ossl_one, ossl_two = signs_per_s("openssl.txt"), signs_per_s("openssl-multi2.txt")
ossl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.split()[1]
s = json.load(open(f"{out}/sign.json"))
l = json.load(open(f"{out}/loopback.json"))
load = open(f"{out}/load.txt").read().strip().split("load average:")[-1].strip()
cpu = next((x.split(":", 1)[1].strip() for x in open("/proc/cpuinfo") if x.startswith("model name")), platform.machine())
f = lambda us: f"{us:,.1f}"
py = f"Python {s['python']}"
sign = [
    ("`openssl speed rsa2048`: one RSA-2048 sign (floor)", f"OpenSSL {ossl}", floor),
    ("twinkey `Signer.sign()`, GET", f"{py}, PyO3 (GIL released)", s["twinkey_get_us"]),
    ("twinkey `Signer.sign()`, POST 1 KiB", f"{py}, PyO3 (GIL released)", s["twinkey_post_1k_us"]),
    ("pip `oci` `oci.signer.Signer`, GET", f"oci {s['oci']}", s["oci_get_us"]),
    ("pip `oci` `oci.signer.Signer`, POST 1 KiB", f"oci {s['oci']}", s["oci_post_1k_us"]),
]
rows = ["| what | implementation | µs per request | × openssl floor |", "|---|---|---:|---:|"]
rows += [f"| {w} | {i} | {f(us)} | {us / floor:.2f} |" for w, i, us in sign]
threads = ["| what | 1 at a time, signatures/s | 2 at once, signatures/s | speed-up |", "|---|---:|---:|---:|"]
threads.append(f"| `openssl speed [-multi 2] rsa2048` (2 processes: the machine's ceiling now) "
               f"| {ossl_one:,.0f} | {ossl_two:,.0f} | {ossl_two / ossl_one:.2f}× |")
for name, label in (("get", "GET"), ("post_1k", "POST 1 KiB")):
    one, two = s[f"twinkey_{name}_1thread_per_s"], s[f"twinkey_{name}_2threads_per_s"]
    threads.append(f"| twinkey `Signer.sign()`, {label}, 1 vs 2 threads | {one:,.0f} | {two:,.0f} | **{two / one:.2f}×** |")
loop = [
    "| way | mean µs | median µs |", "|---|---:|---:|",
    f"| plain `api_key` | {f(l['plain_mean_us'])} | {f(l['plain_median_us'])} |",
    f"| `twinkey.openai.client(engine)` (Httpx2Auth) | {f(l['twinkey_mean_us'])} | {f(l['twinkey_median_us'])} |",
    f"| **overhead** | **{l['overhead_mean_pct']:+.1f} %** | **{l['overhead_median_pct']:+.1f} %** |",
]
section = f"""## Python

Measured by `scripts/bench/python.sh` on {time.strftime('%Y-%m-%d')} ({cpu}, {os.cpu_count()} cores, load
average {load} at the start), all rows in the same run, {py}.

**Sign one OCI request (RSA-2048).** twinkey's `Signer.sign()` through PyO3 against pip oci's
`oci.signer.Signer` in the same process, on the requests of `crates/twinkey/benches/signer.rs`
with a fixed `date` (both produce the same signature; checked before timing): median of 5 rounds
of {iters} after warm-up (`python/bench/sign.py`; the oci rows sign prepared copies made before
the clock starts). The floor is OpenSSL's own RSA-2048 private-key operation
(`openssl speed -seconds 3 rsa2048`).

{chr(10).join(rows)}

**Two threads signing at once** with one shared `Signer` (the GIL is released around the RSA
operation), {iters} signatures per thread, median of 3 runs; next to what two OpenSSL processes
get from the machine at the same time (on a shared machine the second core may be busy):

{chr(10).join(threads)}

**{l['requests_per_way']:,} loopback requests through openai-python** (openai {l['openai']},
httpx2 {l['httpx2']}, `chat.completions.create`, sequential) against the emulator (release
build), alternating request by request between `twinkey.openai.client(engine)` and
`openai.OpenAI(api_key=<the same secret>)` on the same `DefaultHttpx2Client` defaults
(`python/bench/loopback.py`):

{chr(10).join(loop)}

Httpx2Auth's own work (secret hand-out, verdict, header, stream check) over an in-memory
transport, same SDK call: **{l['memory_cost_median_us']:+.1f} µs** per request (median
{f(l['memory_twinkey_median_us'])} vs {f(l['memory_plain_median_us'])} µs).
"""
path = "BENCHMARKS.md"
text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
pattern = re.compile(r"^## Python\n.*?(?=^## |\Z)", re.S | re.M)
if pattern.search(text):
    text = pattern.sub(lambda _: section + "\n", text, count=1)
else:
    text = text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text.rstrip("\n") + "\n")
print(section)
PY
