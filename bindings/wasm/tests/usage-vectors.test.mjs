// Runs the shared usage and budget vectors (tests/vectors/usage/cases.json,
// tests/vectors/budget/cases.json) against the wasm build with the `vectors` feature
// (`--target nodejs`), the way crates/twinkey/tests/{usage,budget}_vectors.rs run them in Rust.
// TWINKEY_WASM_VECTORS points at the wasm-bindgen output directory.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const pkgDir = process.env.TWINKEY_WASM_VECTORS;
assert.ok(pkgDir, 'set TWINKEY_WASM_VECTORS to the --target nodejs output of the vectors build');
const wasm = createRequire(import.meta.url)(`${pkgDir}/twinkey_wasm.js`);
const load = (family) =>
  JSON.parse(readFileSync(new URL(`../../../tests/vectors/${family}/cases.json`, import.meta.url), 'utf8'));
const usage = load('usage');
const budget = load('budget');

test('usage read from response bodies', () => {
  for (const c of usage.bodies) {
    assert.deepEqual(JSON.parse(wasm.usageFromBody(c.body)), c.expect, c.name);
  }
});

test('usage read from streams, whole and byte by byte', () => {
  for (const c of usage.streams) {
    assert.deepEqual(JSON.parse(wasm.streamUsage(c.stream, false)), c.expect, c.name);
    assert.deepEqual(JSON.parse(wasm.streamUsage(c.stream, true)), c.expect, `${c.name} (byte by byte)`);
  }
});

test('request estimates', () => {
  for (const c of usage.requests) {
    assert.deepEqual(JSON.parse(wasm.requestFacts(c.path, c.body, c.defaultOutputTokens)), c.expect, c.name);
  }
});

test('endpoints', () => {
  for (const c of usage.endpoints) {
    assert.equal(wasm.endpointFor(c.path), c.expect, c.path);
  }
});

test('rate-limit headers', () => {
  for (const c of usage.headers) {
    assert.deepEqual(JSON.parse(wasm.parseRateLimitHeaders(JSON.stringify(c.headers), c.nowMs)), c.expect, c.name);
  }
});

test('budget scenarios', () => {
  assert.ok(budget.scenarios.length >= 40);
  for (const sc of budget.scenarios) {
    const b = new wasm.BudgetVector(JSON.stringify(sc.options));
    sc.steps.forEach((step, i) => {
      const here = `${sc.name}, step ${i}`;
      if (step.admit) {
        const a = step.admit;
        const got = b.admit(a.estimate, a.model ?? undefined, a.atMs, a.waitingSinceMs ?? undefined, step.as ?? undefined);
        assert.deepEqual(JSON.parse(got), step.expect, here);
      } else if (step.settle) {
        const s = step.settle;
        const hw = b.settle(s.charge, s.status ?? undefined, JSON.stringify(s.usage ?? null), JSON.stringify(s.headers), s.atMs);
        assert.deepEqual(JSON.parse(hw), step.expect.highWater, here);
      } else if (step.observe) {
        b.observe(JSON.stringify(step.observe.headers), step.observe.atMs);
      } else if (step.snapshot) {
        assert.deepEqual(JSON.parse(b.snapshot(step.snapshot.atMs)), step.expect, here);
      } else {
        assert.fail(`${here}: unknown step`);
      }
    });
  }
});

test('invalid budget options', () => {
  for (const c of budget.invalidOptions) {
    assert.throws(() => wasm.checkBudgetOptions(JSON.stringify(c.options)), (e) => e.name === 'TwinkeyError' && e.code === 'INVALID_OPTIONS', c.name);
  }
});
