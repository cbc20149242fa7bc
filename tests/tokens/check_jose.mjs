// Cross-checks tests/vectors/tokens with npm `jose` (an independent JOSE implementation), the
// same way check_peers.py does with PyJWT.
import { readFileSync } from 'node:fs';
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';

const vec = new URL('../vectors/tokens/', import.meta.url);
const read = (name) => JSON.parse(readFileSync(new URL(name, vec), 'utf8'));

async function joseVerify(ring, token, nowMs, audience, issuer, leeway = 30) {
  const { kid } = decodeProtectedHeader(token);
  const jwk = ring.keys.find((k) => k.kid === kid);
  if (!jwk) throw new Error('unknown kid');
  const { d, ...pub } = jwk; // verify with the public half (jose refuses private keys here)
  const key = await importJWK(jwk.kty === 'OKP' ? pub : jwk, jwk.alg);
  const { payload } = await jwtVerify(token, key, {
    algorithms: [jwk.alg], audience, issuer, clockTolerance: leeway,
    currentDate: new Date(nowMs), requiredClaims: ['exp', 'iat'],
  });
  return payload;
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const { rings } = read('keys.json');
const fails = [];
let checked = 0;
for (const c of read('mint.json').cases) {
  const e = c.expect;
  checked++;
  try {
    const got = await joseVerify(rings[c.ring], e.token, c.nowMs, e.claims.aud);
    if (!same(got, e.claims)) fails.push(`mint/${c.name}: claims differ`);
  } catch (err) {
    fails.push(`mint/${c.name}: jose refused: ${err.code || err.message}`);
  }
}
for (const c of read('verify.json').cases) {
  const o = c.options;
  let got = null;
  let err = null;
  try {
    got = await joseVerify(rings[c.ring], c.token, c.nowMs, o.audience, o.issuer,
      o.leewaySeconds ?? 30);
  } catch (e) {
    err = e.code || e.name;
  }
  checked++;
  const wantOk = !('error' in c.expect);
  if (wantOk && (err || !same(got, c.expect.claims))) {
    fails.push(`verify/${c.name}: jose refused or differs: ${err}`);
  } else if (!wantOk && c.peers === undefined && err === null) {
    fails.push(`verify/${c.name}: jose accepted a token twinkey refuses (${c.expect.error})`);
  } else if (!wantOk && c.peers === 'accept' && err !== null) {
    fails.push(`verify/${c.name}: marked peers=accept but jose refused (${err})`);
  }
}
for (const f of fails) console.log('FAIL', f);
const { version } = JSON.parse(readFileSync(new URL('./node_modules/jose/package.json', import.meta.url), 'utf8'));
console.log(`jose ${version}: ${checked - fails.length}/${checked} token vectors agree`);
process.exit(fails.length ? 1 : 0);
