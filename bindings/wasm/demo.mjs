// The demo's browser path (scripts/demo.sh): headless Chromium loads a page bundling the openai
// npm SDK with twinkey's browser TokenClient; the page gets server tokens from its app server
// and calls `twinkey relay`, which forwards to the demo's emulator with a real secret. Half-way
// the secret in use is revoked (the relay fails over) and the page is handed a stale token (the
// client refreshes and replays). Prints a short report; exits non-zero on any failed request or
// if a secret reached the browser.
//   node bindings/wasm/demo.mjs --twinkey BIN --base-url URL --admin-url URL --key-file FILE \
//        --work DIR [--requests N] [--concurrency C]
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs, promisify } from 'node:util';

import { bundlePage, launchChromium, startApp } from './tests/page/serve.mjs';

const run = promisify(execFile);
const { values: a } = parseArgs({
  options: {
    twinkey: { type: 'string' }, 'base-url': { type: 'string' }, 'admin-url': { type: 'string' },
    'key-file': { type: 'string' }, work: { type: 'string' },
    requests: { type: 'string', default: '300' }, concurrency: { type: 'string', default: '16' },
  },
});
const requests = Number(a.requests);
const concurrency = Number(a.concurrency);
const keys = join(a.work, 'browser-token-keys.json');
const keyId = JSON.parse(readFileSync(a['key-file'], 'utf8')).id;

async function counts() {
  const body = await (await fetch(`${a['admin-url']}/counts`)).json();
  const out = {};
  for (const row of body.secrets.filter((r) => r.keyId === keyId)) {
    const c = (out[row.secret] ??= { requests: 0, accepted: 0, rejected: 0 });
    c.requests += row.requests;
    c.accepted += row.accepted;
    c.rejected += row.rejected;
  }
  return out;
}

const mint = async ({ ttl }) => (await run(a.twinkey, ['token', 'mint', '--token-key', keys, '--sub', 'demo-page',
  '--model', '*', '--endpoint', 'chat.completions', '--ttl', String(ttl), '--max-output-tokens', '64'])).stdout.trim();

await run(a.twinkey, ['token', 'keygen', '--out', keys, '--kid', 'demo-browser']);
let relayUrl = '';
const app = await startApp({ bundle: await bundlePage(), relayUrl: () => relayUrl, mint, ttl: 60 });
const relay = spawn(a.twinkey, ['--json', 'relay', '--key', a['key-file'], '--token-key', keys, '--listen', '127.0.0.1:0',
  '--upstream', a['base-url'], '--cors-origin', app.origin, '--leeway', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
relay.stderr.resume();
relayUrl = await new Promise((resolve, reject) => {
  createInterface({ input: relay.stdout }).once('line', (l) => resolve(JSON.parse(l).url));
  relay.once('exit', (c) => reject(new Error(`the relay exited with ${c}`)));
});
console.log(`relay ${relayUrl} -> ${a['base-url']}; page ${app.origin}`);

const chromium = await launchChromium();
const seen = [];
const relayCodes = [];
chromium.context.on('request', (r) => seen.push(r));
chromium.context.on('response', (r) => {
  const code = r.headers()['x-twinkey-error'];
  if (code) relayCodes.push(code);
});
let failed = 0;
let leaked = false;
try {
  const page = chromium.context.pages()[0] ?? (await chromium.context.newPage());
  await page.goto(`${app.origin}/`);
  await page.evaluate(() => window.twinkeyPage.ready);
  const batch = (from, n) => page.evaluate(async ({ from, n, c }) => {
    let next = from;
    const end = from + n;
    const worker = async () => {
      while (next < end) {
        const i = next++;
        // Every fourth request streams.
        await (i % 4 === 0 ? window.twinkeyPage.stream(`browser request ${i}`) : window.twinkeyPage.chat(`browser request ${i}`))
          .catch(() => {});
      }
    };
    await Promise.all(Array.from({ length: c }, worker));
  }, { from, n, c: concurrency });

  const before = await counts();
  await batch(0, Math.floor(requests / 2));
  const mid = await counts();
  const inUse = Object.keys(mid).reduce((x, y) =>
    (mid[x].accepted - (before[x]?.accepted ?? 0) >= mid[y].accepted - (before[y]?.accepted ?? 0) ? x : y));
  await fetch(`${a['admin-url']}/keys/${keyId}/setstate`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keyName: inUse, state: 'REVOKED' }),
  });
  console.log(`revoked ${inUse} (the secret in use) after ${Math.floor(requests / 2)} requests`);
  app.route.serveStale = true;
  await page.evaluate(() => window.twinkeyPage.clear());
  await batch(Math.floor(requests / 2), requests - Math.floor(requests / 2));

  const stats = await page.evaluate(() => ({ ...window.twinkeyPage.stats }));
  failed = stats.failed;
  const end = await counts();
  const forbidden = [
    ...JSON.parse(readFileSync(a['key-file'], 'utf8')).keys.map((k) => k.key),
    ...JSON.parse(readFileSync(keys, 'utf8')).keys.map((k) => k.d),
  ].filter(Boolean);
  const haystack = [await page.content(), JSON.stringify(await chromium.context.storageState())];
  for (const r of seen) haystack.push(r.url(), JSON.stringify(await r.allHeaders()), r.postData() ?? '');
  const text = haystack.join('\n');
  leaked = forbidden.some((s) => text.includes(s));

  console.log(`browser: ${stats.ok} requests ok, ${stats.failed} failed, ${stats.tokenFetches} server tokens fetched`);
  console.log(`relay refusals the client recovered from: ${relayCodes.join(', ') || 'none'}`);
  for (const [name, c] of Object.entries(end)) {
    console.log(`  ${name}: ${c.requests} requests, ${c.accepted} accepted, ${c.rejected} rejected`);
  }
  console.log(`secrets or signing keys seen by the browser: ${leaked ? 'YES' : 'none'} (page, storage, ${seen.length} requests checked)`);
  if (stats.failed) console.log(stats.errors.slice(0, 5).join('\n'));
} finally {
  await chromium.close();
  await app.close();
  relay.kill('SIGTERM');
}
process.exit(failed || leaked ? 1 : 0);
