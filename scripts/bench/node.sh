#!/usr/bin/env bash
# Node.js benchmarks, written to the "Node.js" section of BENCHMARKS.md (same run):
#   - sign one OCI request (RSA-2048): twinkey's Node binding vs npm oci-common's
#     DefaultRequestSigner, next to the `openssl speed -seconds 3 rsa2048` floor;
#   - 2 000 loopback chat completions through the openai npm SDK against the emulator
#     (release build): `fetch: engine.fetch` vs a plain `apiKey`, and engine.fetch's own cost.
# Run it on an otherwise idle machine.
#   scripts/bench/node.sh                 # full run
#   BENCH_SIGN_ITERS=500 BENCH_REQUESTS=500 scripts/bench/node.sh   # quicker
set -euo pipefail
source "$(dirname "$0")/../env.sh"
cd "$TWINKEY_ROOT"
sign_iters="${BENCH_SIGN_ITERS:-2000}"
requests="${BENCH_REQUESTS:-2000}"
out="$CARGO_TARGET_DIR/bench-node"
mkdir -p "$out"

step "build: the emulator (release) and the addon"
cargo build --release --locked -p twinkey-cli
node/scripts/prepare.sh --if-stale
export TWINKEY_BIN="$CARGO_TARGET_DIR/release/twinkey"

if pgrep -x rustc >/dev/null || pgrep -f 'cargo-fuzz|libfuzzer' >/dev/null; then
  echo "warning: compilers or fuzzers are running; figures will be noisy" >&2
fi
uptime | tee "$out/load.txt"

step "openssl speed -seconds 3 rsa2048"
openssl speed -seconds 3 rsa2048 2>/dev/null | tee "$out/openssl.txt" | tail -1

step "sign one request: twinkey (Node binding) vs oci-common ($sign_iters x 5 rounds)"
(cd node && node bench/sign.mjs "$sign_iters") | tee "$out/sign.json"

step "$requests loopback requests through openai-node: engine.fetch vs plain apiKey"
(cd node && node bench/loopback.mjs "$requests") | tee "$out/loopback.json"

step "BENCHMARKS.md: Node.js"
python3 - "$out" <<'PY'
import json, os, platform, re, subprocess, sys, time
out = sys.argv[1]
line = [l for l in open(f"{out}/openssl.txt") if l.startswith("rsa 2048 bits")][0].split()
floor = 1e6 / float(line[5])
ossl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.split()[1]
s = json.load(open(f"{out}/sign.json"))
l = json.load(open(f"{out}/loopback.json"))
load = open(f"{out}/load.txt").read().strip().split("load average:")[-1].strip()
cpu = next((x.split(":", 1)[1].strip() for x in open("/proc/cpuinfo") if x.startswith("model name")), platform.machine())
f = lambda us: f"{us:,.1f}"
sign = [
    ("`openssl speed rsa2048`: one RSA-2048 sign (floor)", f"OpenSSL {ossl}", floor),
    ("twinkey `signer.sign()`, GET", f"Node {s['node']}, N-API", s["twinkey_get"]),
    ("twinkey `signer.sign()`, POST 1 KiB", f"Node {s['node']}, N-API", s["twinkey_post_1k"]),
    ("oci-common `DefaultRequestSigner`, GET", f"oci-common {s['oci_common']}", s["oci_common_get"]),
    ("oci-common `DefaultRequestSigner`, POST 1 KiB", f"oci-common {s['oci_common']}", s["oci_common_post_1k"]),
]
rows = ["| what | implementation | µs per request | × openssl floor |", "|---|---|---:|---:|"]
rows += [f"| {w} | {i} | {f(us)} | {us / floor:.2f} |" for w, i, us in sign]
speed = (s["oci_common_get"] / s["twinkey_get"], s["oci_common_post_1k"] / s["twinkey_post_1k"])
loop = [
    "| way | mean µs | median µs |", "|---|---:|---:|",
    f"| plain `apiKey` | {f(l['plain_mean_us'])} | {f(l['plain_median_us'])} |",
    f"| `fetch: engine.fetch` | {f(l['twinkey_mean_us'])} | {f(l['twinkey_median_us'])} |",
    f"| **overhead** | **{l['overhead_mean_pct']:+.1f} %** | **{l['overhead_median_pct']:+.1f} %** |",
]
section = f"""## Node.js

Measured by `scripts/bench/node.sh` on {time.strftime('%Y-%m-%d')} ({cpu}, {os.cpu_count()} cores, load
average {load} at the start), all rows in the same run, Node {s['node']}.

**Sign one OCI request (RSA-2048).** twinkey's `Signer.sign()` through N-API against npm
oci-common's `DefaultRequestSigner` in the same process, on the requests of
`crates/twinkey/benches/signer.rs` with a fixed `x-date` (both produce the same signature;
checked before timing): median of 5 rounds of {os.environ.get('BENCH_SIGN_ITERS', '2000')} after warm-up
(`node/bench/sign.mjs`). The floor is OpenSSL's own RSA-2048 private-key operation
(`openssl speed -seconds 3 rsa2048`). twinkey is **{speed[0]:.1f}×** (GET) and **{speed[1]:.1f}×** (POST) faster
than oci-common.

{chr(10).join(rows)}

**{l['requests_per_way']:,} loopback requests through openai-node** (openai {l['openai']}, `chat.completions.create`,
sequential) against the emulator (release build), alternating request by request between a client
with `fetch: engine.fetch` and one with the same secret as a plain `apiKey` (`node/bench/loopback.mjs`):

{chr(10).join(loop)}

engine.fetch's own work (secret hand-out, verdict, header copy, stream check) over an in-memory
`fetch`, same SDK call: **{l['engine_fetch_cost_us']:.1f} µs** per request (median {f(l['in_memory_twinkey_median_us'])} vs {f(l['in_memory_plain_median_us'])} µs).
"""
path = "BENCHMARKS.md"
text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\nFigures measured on the project's CI-class machine. Each section names the script that produced it.\n"
pattern = re.compile(r"^## Node\.js\n.*?(?=^## |\Z)", re.S | re.M)
text = pattern.sub(section.rstrip("\n") + "\n\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text.rstrip("\n") + "\n")
print(section)
PY
