#!/usr/bin/env bash
# Server-token benchmarks, written to the "Server tokens" section of BENCHMARKS.md, peers
# measured in the same run: verify one EdDSA / HS256 token in Rust (criterion), PyJWT and npm
# jose next to twinkey's Python and Node bindings (measured when the installed bindings expose
# the token API), the relay's added latency on loopback, and the browser wasm size.
# Run it on an otherwise idle machine.
#   scripts/bench/tokens.sh
#   BENCH_ITERS=2000 BENCH_RELAY_REQUESTS=1000 scripts/bench/tokens.sh   # shorter
set -euo pipefail
source "$(dirname "$0")/../env.sh"
cd "$TWINKEY_ROOT"
source tests/tokens/deps.sh
tokens_deps
iters="${BENCH_ITERS:-5000}"
relay_n="${BENCH_RELAY_REQUESTS:-4000}"
out="$CARGO_TARGET_DIR/bench-tokens"
rm -rf "$out"
mkdir -p "$out"

if pgrep -x rustc >/dev/null || pgrep -x cargo >/dev/null; then
  echo "warning: compilers are running; figures will be noisy" >&2
fi

step "build first (so compiling does not overlap the measurements)"
cargo build --locked -p twinkey-cli
cargo bench --locked -p twinkey --bench tokens --no-run
cargo build --locked --release -p twinkey-client --features relay --example relay_latency
bindings/wasm/build.sh web
# The Python binding (release wheel, built once by prepare.sh) in the PyJWT venv, so
# bench_pyjwt.py measures twinkey's TokenKeyRing next to PyJWT in the same process.
python/tools/prepare.sh openai3
"$TOKENS_VENV/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps \
  "$(ls "$CARGO_TARGET_DIR"/python-wheels/twinkey-*.whl)"
bin="$CARGO_TARGET_DIR/debug/twinkey"

step "tokens for the peers (same claims shape as the criterion bench, valid for a day)"
"$bin" token keygen --out "$out/eddsa.json" --kid bench-ed --alg EdDSA >/dev/null
"$bin" token keygen --out "$out/hs256.json" --kid bench-hs --alg HS256 >/dev/null
mint() {
  "$bin" token mint --token-key "$1" --sub user-42 --ttl 86400 \
    --model cohere.command-r --model meta.llama-3.3-70b-instruct \
    --endpoint chat.completions --endpoint responses --max-output-tokens 256 --max-requests 1000000000
}
ed_token=$(mint "$out/eddsa.json")
hs_token=$(mint "$out/hs256.json")

step "criterion: crates/twinkey/benches/tokens.rs"
cargo bench --locked -p twinkey --bench tokens -- --noplot 2>&1 | tee "$out/criterion.txt" | grep -E '^(verify|mint|gate)|time:'

step "PyJWT ($iters verifies x 5 rounds)"
"$TOKENS_PY" tests/tokens/bench_pyjwt.py "$out/eddsa.json" "$ed_token" "$out/hs256.json" "$hs_token" "$iters" \
  | tee "$out/python.json"

step "npm jose ($iters verifies x 5 rounds)"
node tests/tokens/bench_jose.mjs "$out/eddsa.json" "$ed_token" "$out/hs256.json" "$hs_token" "$iters" \
  | tee "$out/node.json"

step "relay added latency ($relay_n chat completions each way, loopback)"
"$CARGO_TARGET_DIR/release/examples/relay_latency" "$relay_n" | tee "$out/relay.json"

step "BENCHMARKS.md: Server tokens"
python3 - "$out" "$CARGO_TARGET_DIR/criterion" <<'PY'
import glob, gzip, json, os, platform, re, sys, time
out, crit = sys.argv[1], sys.argv[2]
crit_us = {}
for bench in glob.glob(f"{crit}/*/new/benchmark.json"):
    b = json.load(open(bench))
    est = json.load(open(os.path.join(os.path.dirname(bench), "estimates.json")))
    crit_us[b["full_id"]] = est["median"]["point_estimate"] / 1000
py = json.load(open(f"{out}/python.json"))
js = json.load(open(f"{out}/node.json"))
relay = json.load(open(f"{out}/relay.json"))
wasm = open("node/pkg-web/twinkey_wasm_bg.wasm", "rb").read()
raw, gz = len(wasm), len(gzip.compress(wasm, 9))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
load = os.getloadavg()[0]

def us(v): return "pending" if v is None else f"{v:,.1f}"
def ratio(peer, ours, goal):
    if ours is None: return f"pending (goal ≥ {goal}×)"
    r = peer / ours
    return f"**{r:.1f}×** ({'meets' if r >= goal else 'misses'} ≥ {goal}×)"

rows = [
    "| what | implementation | µs per verify | twinkey speed-up |",
    "|---|---|---:|---:|",
    f"| verify EdDSA | twinkey Rust (criterion median) | {us(crit_us.get('verify EdDSA'))} | |",
    f"| verify HS256 | twinkey Rust (criterion median) | {us(crit_us.get('verify HS256'))} | |",
    f"| verify EdDSA | {py['peer']} | {us(py['pyjwt_eddsa'])} | |",
    f"| verify EdDSA | twinkey Python binding | {us(py['twinkey_eddsa'])} | {ratio(py['pyjwt_eddsa'], py['twinkey_eddsa'], 2.5)} |",
    f"| verify HS256 | {py['peer']} | {us(py['pyjwt_hs256'])} | |",
    f"| verify HS256 | twinkey Python binding | {us(py['twinkey_hs256'])} | {ratio(py['pyjwt_hs256'], py['twinkey_hs256'], 10)} |",
    f"| verify EdDSA | {js['peer']} | {us(js['jose_eddsa'])} | |",
    f"| verify EdDSA | twinkey Node binding | {us(js['twinkey_eddsa'])} | {ratio(js['jose_eddsa'], js['twinkey_eddsa'], 3)} |",
    f"| verify HS256 | {js['peer']} | {us(js['jose_hs256'])} | |",
    f"| verify HS256 | twinkey Node binding | {us(js['twinkey_hs256'])} | {ratio(js['jose_hs256'], js['twinkey_hs256'], 10)} |",
    f"| (Rust core vs peer, EdDSA) | Rust vs PyJWT / jose | | {py['pyjwt_eddsa'] / crit_us['verify EdDSA']:.1f}× / {js['jose_eddsa'] / crit_us['verify EdDSA']:.1f}× |",
    f"| (Rust core vs peer, HS256) | Rust vs PyJWT / jose | | {py['pyjwt_hs256'] / crit_us['verify HS256']:.1f}× / {js['jose_hs256'] / crit_us['verify HS256']:.1f}× |",
]
other = [
    "| what | figure |",
    "|---|---:|",
    f"| mint EdDSA (Rust, criterion median) | {us(crit_us.get('mint EdDSA'))} µs |",
    f"| mint HS256 (Rust, criterion median) | {us(crit_us.get('mint HS256'))} µs |",
    f"| relay gate admission: verify + scope + cap + budget (Rust) | {us(crit_us.get('gate admit (EdDSA, chat, capped)'))} µs |",
    f"| chat completion straight to the emulator, p50 / p99 | {relay['direct_p50_us']:,.0f} / {relay['direct_p99_us']:,.0f} µs |",
    f"| the same through the relay, p50 / p99 | {relay['relay_p50_us']:,.0f} / {relay['relay_p99_us']:,.0f} µs |",
    f"| **relay added latency, p50 / p99** (goal ≤ 1 ms p50) | **{relay['added_p50_us']:,.0f} / {relay['added_p99_us']:,.0f} µs** |",
    f"| browser wasm (`node/pkg-web/twinkey_wasm_bg.wasm`), raw | {raw / 1024:,.1f} KiB |",
    f"| **browser wasm, gzip -9** (goal ≤ 100 KB) | **{gz / 1024:,.1f} KiB** ({gz:,} bytes) |",
]
section = f"""## Server tokens

Measured by `scripts/bench/tokens.sh` on {time.strftime('%Y-%m-%d')} ({cpu}, {os.cpu_count()} cores, load
average {load:.1f} at the end), all rows in the same run. One compact JWT with the claims the relay
reads (two models, two endpoints, output cap, budget; ~400 bytes), verified with the key pinned
by its `kid` and the audience checked. Rust figures are criterion medians
(`crates/twinkey/benches/tokens.rs`); the Python and Node rows are the best of 5 rounds of
{py['iterations']:,} verifies after warm-up (`tests/tokens/bench_pyjwt.py`, `bench_jose.mjs`), each peer
with its key object prepared once, as an application would. A binding row reads "pending" until the
installed binding exposes `TokenKeyRing` (the Python and Node packages gain it in their own issues).

{chr(10).join(rows)}

Relay latency: `crates/twinkey-client/examples/relay_latency.rs`, {relay['requests']:,} non-streamed chat
completions each way on one kept-alive loopback connection, in alternating rounds, emulator and
relay in one process (2 worker threads).

{chr(10).join(other)}
"""
path = "BENCHMARKS.md"
text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\nFigures measured on the project's CI-class machine. Each section names the script that produced it.\n"
pattern = re.compile(r"^## Server tokens\n.*?(?=^## |\Z)", re.S | re.M)
text = pattern.sub(section.rstrip("\n") + "\n\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text.rstrip("\n") + "\n")
print("\n".join(rows + [""] + other))
PY
