// Runs the shared token vectors (tests/vectors/tokens/*.json) against the wasm build with the
// `vectors` feature (`--target nodejs`), the way crates/twinkey/tests/token_vectors.rs runs
// them in Rust. TWINKEY_WASM_VECTORS points at the wasm-bindgen output directory.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const pkgDir = process.env.TWINKEY_WASM_VECTORS;
assert.ok(pkgDir, 'set TWINKEY_WASM_VECTORS to the --target nodejs output of the vectors build');
const wasm = createRequire(import.meta.url)(`${pkgDir}/twinkey_wasm.js`);
const dir = new URL('../../../tests/vectors/tokens/', import.meta.url);
const load = (name) => JSON.parse(readFileSync(new URL(name, dir), 'utf8'));
const keys = load('keys.json');
const ringJson = (name) => JSON.stringify(keys.rings[name]);

/** The code of what `fn` throws (a TwinkeyError), or null when it returns. */
function codeOf(fn) {
  try {
    fn();
    return null;
  } catch (e) {
    assert.equal(e.name, 'TwinkeyError', String(e));
    return e.code;
  }
}

const KNOWN = ['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'jti', 'twk'];
const known = (claims) => Object.fromEntries(KNOWN.filter((k) => k in claims).map((k) => [k, claims[k]]));

test('key vectors', () => {
  for (const [name, ring] of Object.entries(keys.rings)) {
    assert.equal(wasm.signingKid(JSON.stringify(ring)) ?? null, keys.signingKids[name], name);
  }
  for (const c of keys.badKeys) {
    assert.equal(codeOf(() => wasm.checkTokenKey(JSON.stringify(c.jwk))), c.expect.error, c.name);
  }
  assert.equal(codeOf(() => wasm.signingKid(JSON.stringify(keys.duplicateKidRing))), 'INVALID_TOKEN_KEY');
});

test('mint vectors', () => {
  const doc = load('mint.json');
  for (const c of doc.cases) {
    const out = JSON.parse(wasm.mintToken(ringJson(c.ring), JSON.stringify(c.request), c.nowMs, c.rngHex, c.signingKid));
    assert.equal(out.token, c.expect.token, c.name);
    assert.deepEqual(out.claims, c.expect.claims, c.name);
  }
  for (const c of doc.errors) {
    const code = codeOf(() => wasm.mintToken(ringJson(c.ring), JSON.stringify(c.request), c.nowMs, c.rngHex));
    assert.equal(code, c.expect.error, c.name);
  }
});

test('verify vectors (the hostile table)', () => {
  const doc = load('verify.json');
  assert.ok(doc.cases.length >= 60);
  for (const c of doc.cases) {
    let got = null;
    const code = codeOf(() => {
      got = JSON.parse(wasm.verifyToken(ringJson(c.ring), c.token, JSON.stringify(c.options), c.nowMs));
    });
    if (c.expect.error) {
      assert.equal(code, c.expect.error, c.name);
    } else {
      assert.equal(code, null, c.name);
      assert.equal(got.kid, c.expect.kid, c.name);
      assert.equal(got.alg, c.expect.alg, c.name);
      assert.deepEqual(got.claims, known(c.expect.claims), c.name);
    }
  }
});

test('relay gate vectors', () => {
  for (const sc of load('gate.json').scenarios) {
    const gate = new wasm.RelayGate(ringJson(sc.ring), JSON.stringify(sc.options));
    sc.steps.forEach((step, i) => {
      const at = `${sc.name} step ${i}`;
      if (step.op === 'release') {
        gate.release();
        return;
      }
      try {
        const got = JSON.parse(gate.admit(step.method, step.path, step.authorization ?? undefined,
          step.body ?? undefined, step.nowMs));
        assert.ok(!step.expect.error, `${at}: admitted, expected ${step.expect.error}`);
        assert.deepEqual(got, step.expect.admit, at);
      } catch (e) {
        if (e instanceof assert.AssertionError) throw e;
        assert.equal(e.code, step.expect.error, `${at}: ${e.message}`);
        assert.equal(e.status, step.expect.status, at);
      }
    });
  }
});

test('browser token cache vectors', () => {
  for (const sc of load('cache.json').scenarios) {
    const cache = new wasm.TokenCache(sc.marginMs);
    const labels = new Map();
    sc.steps.forEach((step, i) => {
      const at = `${sc.name} step ${i}`;
      const e = step.expect ?? {};
      switch (step.op) {
        case 'next': {
          const got = cache.next(step.nowMs);
          assert.equal(got.step, e.step, at);
          if (e.step === 'fetch') labels.set(e.as, got.ticket);
          if (e.step === 'use') {
            assert.equal(got.token, e.token, at);
            assert.equal(got.generation, labels.get(e.generation), at);
          }
          break;
        }
        case 'store': {
          let generation;
          const code = codeOf(() => {
            generation = cache.store(labels.get(step.ticket), step.token, step.nowMs);
          });
          assert.equal(code, e.error ?? null, at);
          if (!e.error) labels.set(e.as, generation);
          break;
        }
        case 'fetchFailed':
          cache.fetchFailed(labels.get(step.ticket));
          break;
        case 'judge':
          assert.equal(cache.judge(labels.get(step.generation), step.replayed, step.status, step.code ?? undefined), e.after, at);
          break;
        case 'clear':
          cache.clear();
          break;
        default:
          assert.fail(`${at}: unknown op ${step.op}`);
      }
    });
  }
});

test('relay URL helpers', () => {
  assert.equal(wasm.relayBaseUrl('http://127.0.0.1:8787/'), 'http://127.0.0.1:8787/v1');
  assert.ok(wasm.isRelayUrl('http://127.0.0.1:8787', 'http://127.0.0.1:8787/v1/chat/completions'));
  assert.ok(!wasm.isRelayUrl('http://127.0.0.1:8787', 'http://127.0.0.1:8787@evil.example/v1'));
  assert.equal(wasm.errorHeader(), 'x-twinkey-error');
});
