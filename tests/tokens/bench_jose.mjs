// Verify-one-token benchmark: npm jose next to twinkey's Node binding (when it exposes tokens).
//   node bench_jose.mjs KEYS_EDDSA.json TOKEN_EDDSA KEYS_HS256.json TOKEN_HS256 [iterations]
// Prints one JSON object: microseconds per verify (best of 5 rounds) for each implementation.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { importJWK, jwtVerify } from 'jose';

const [edKeys, edToken, hsKeys, hsToken, iters = '5000'] = process.argv.slice(2);
const n = Number(iters);

// A synchronous verify (twinkey's) is timed without `await`, which would add a microtask hop
// per call that an application calling it does not pay; jose's Promise is awaited.
async function bestUs(fn) {
  const isAsync = fn() instanceof Promise;
  for (let i = 0; i < Math.min(n, 200); i++) isAsync ? await fn() : fn();
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    if (isAsync) for (let i = 0; i < n; i++) await fn();
    else for (let i = 0; i < n; i++) fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1000 / n);
  }
  return best;
}

let binding = null;
try {
  binding = createRequire(import.meta.url)(process.env.TWINKEY_NODE_PACKAGE ?? '../../node');
} catch {
  binding = null;
}

const { version } = JSON.parse(readFileSync(new URL('./node_modules/jose/package.json', import.meta.url), 'utf8'));
const out = { peer: `jose ${version}`, iterations: n };
for (const [label, keysPath, token] of [['eddsa', edKeys, edToken], ['hs256', hsKeys, hsToken]]) {
  const text = readFileSync(keysPath, 'utf8');
  const { d, ...pub } = JSON.parse(text).keys[0];
  const jwk = pub.kty === 'OKP' ? pub : { ...pub, d };
  const key = await importJWK(jwk, jwk.alg);
  const opts = { algorithms: [jwk.alg], audience: 'twinkey-relay' };
  await jwtVerify(token, key, opts);
  out[`jose_${label}`] = await bestUs(() => jwtVerify(token, key, opts));
  const Ring = binding?.TokenKeyRing;
  if (Ring) {
    const ring = Ring.fromJson(text);
    const vopts = { audience: 'twinkey-relay' };
    ring.verify(token, vopts);
    out[`twinkey_${label}`] = await bestUs(() => ring.verify(token, vopts));
  } else {
    out[`twinkey_${label}`] = null;
  }
}
console.log(JSON.stringify(out));
