// A real browser: headless Chromium (Debian `chromium`, driven by playwright-core) loads a page
// served on 127.0.0.1 that bundles the openai npm SDK with twinkey's browser TokenClient
// (esbuild), and talks to `twinkey relay` -> `twinkey emulate`. The page streams a completion,
// survives a token refresh, a stale token refused by the relay, and the revocation of the
// secret in use (fail-over in the relay), with 0 failed calls. Neither OCI secret nor the token
// signing key may appear in the page, its storage, or any request or response it saw.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { Stack, servedBy, sleep } from './harness.mjs';
import { bundlePage, launchChromium, startApp } from './page/serve.mjs';

let stack;
let app;
let context;
let chromium;
let page;
let bundle;
const seen = { requests: [], responses: [], relayCodes: [] };

before(async () => {
  bundle = await bundlePage();
  app = await startApp({
    bundle,
    relayUrl: () => stack.relayUrl,
    mint: ({ ttl }) => stack.mint({ ttl, maxOutputTokens: 64 }),
    ttl: 4,
  });
  stack = await Stack.start({ origins: [app.origin], leeway: 0 });
  chromium = await launchChromium();
  context = chromium.context;
  context.on('request', (r) => seen.requests.push(r));
  context.on('response', (r) => {
    seen.responses.push(r);
    const code = r.headers()['x-twinkey-error'];
    if (code) seen.relayCodes.push(code);
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(`${app.origin}/`);
  assert.equal(await page.evaluate(() => window.twinkeyPage.ready), true);
});

after(async () => {
  await chromium?.close();
  await app?.close();
  await stack?.stop();
});

const stats = () => page.evaluate(() => ({ ...window.twinkeyPage.stats }));

test('streams a completion through the relay', async () => {
  const { text, chunks } = await page.evaluate(() => window.twinkeyPage.stream('hello from chromium'));
  assert.ok(chunks > 2, `${chunks} chunks`);
  assert.ok(text.includes('chromium'), text);
  assert.equal((await stats()).tokenFetches, 1);
});

test('concurrent calls share one token fetch', async () => {
  await page.evaluate(() => window.twinkeyPage.clear());
  const before = (await stats()).tokenFetches;
  const replies = await page.evaluate(() =>
    Promise.all([1, 2, 3, 4, 5].map((i) => window.twinkeyPage.chat(`parallel ${i}`))));
  assert.equal(replies.length, 5);
  assert.equal((await stats()).tokenFetches, before + 1);
});

test('survives token refreshes: ahead of time, and a stale token refused by the relay', async () => {
  // Tokens live 4 s, so the client refreshes after 2 s (half-life).
  const t0 = (await stats()).tokenFetches;
  await page.evaluate(() => window.twinkeyPage.chat('before the refresh'));
  await sleep(2200);
  await page.evaluate(() => window.twinkeyPage.chat('after the refresh'));
  assert.ok((await stats()).tokenFetches > t0);

  // The app's server hands out a token that is already stale: the relay refuses it with
  // TOKEN_EXPIRED, the client fetches a fresh one and replays the call once.
  const codes = seen.relayCodes.length;
  app.route.serveStale = true;
  await page.evaluate(() => window.twinkeyPage.clear());
  const t1 = (await stats()).tokenFetches;
  const reply = await page.evaluate(() => window.twinkeyPage.chat('stale token'));
  assert.ok(reply.includes('stale token'), reply);
  assert.equal((await stats()).tokenFetches, t1 + 2);
  assert.deepEqual(seen.relayCodes.slice(codes), ['TOKEN_EXPIRED']);
});

test('survives the revocation of the secret in use (fail-over in the relay)', async () => {
  const c0 = await stack.counts();
  await page.evaluate(() => window.twinkeyPage.chat('who serves me'));
  const inUse = servedBy(c0, await stack.counts());
  assert.ok(inUse);
  await stack.setState(inUse, 'REVOKED');
  const c1 = await stack.counts();
  const { text } = await page.evaluate(() => window.twinkeyPage.stream('after the revocation'));
  assert.ok(text.includes('revocation'), text);
  await page.evaluate(() => window.twinkeyPage.chat('still fine'));
  const c2 = await stack.counts();
  assert.equal(c2[inUse].rejected - (c1[inUse]?.rejected ?? 0), 1);
  const other = Object.keys(c2).find((n) => n !== inUse);
  assert.ok(c2[other].accepted - (c1[other]?.accepted ?? 0) >= 2);
});

test('0 failed calls, and no secret in the page, its storage or its traffic', async () => {
  const s = await stats();
  assert.equal(s.failed, 0, s.errors.join('\n'));
  assert.ok(s.ok >= 11, `${s.ok} calls`);

  const haystack = [bundle, await page.content()];
  haystack.push(JSON.stringify(await page.evaluate(async () => ({
    local: { ...localStorage },
    session: { ...sessionStorage },
    cookie: document.cookie,
    caches: 'caches' in window ? await caches.keys() : [],
    databases: indexedDB.databases ? await indexedDB.databases() : [],
    globals: Object.keys(window),
  }))));
  haystack.push(JSON.stringify(await context.cookies()));
  haystack.push(JSON.stringify(await context.storageState()));
  assert.ok(seen.requests.length >= 20, `${seen.requests.length} requests seen`);
  for (const r of seen.requests) {
    haystack.push(r.url(), JSON.stringify(await r.allHeaders()), r.postData() ?? '');
  }
  for (const r of seen.responses) {
    haystack.push(JSON.stringify(await r.allHeaders()));
    try {
      haystack.push(await r.text());
    } catch {
      // streamed bodies may be gone; their chunks were checked in the page's output above
    }
  }
  const forbidden = stack.forbidden();
  assert.equal(forbidden.length, 3, 'two OCI secrets and the signing key');
  const text = haystack.join('\n');
  for (const secret of forbidden) {
    assert.ok(!text.includes(secret), 'a secret reached the browser');
  }
  // The relay answered for the page, with CORS.
  assert.ok(seen.requests.some((r) => r.url().startsWith(`${stack.relayUrl}/v1/chat/completions`)));
});

test("the relay's status page renders in Chromium with nothing from outside (screenshot kept)", async () => {
  const status = await context.newPage();
  const errors = [];
  const requests = [];
  status.on('pageerror', (e) => errors.push(String(e)));
  status.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  status.on('request', (r) => requests.push(r.url()));
  const resp = await status.goto(`${stack.adminUrl}/status`);
  assert.equal(resp.status(), 200);
  assert.match(resp.headers()['content-security-policy'], /^default-src 'none'/);
  assert.deepEqual(requests, [`${stack.adminUrl}/status`], 'no asset is fetched');
  assert.deepEqual(errors, []);
  const view = await status.evaluate(() => ({
    secrets: [...document.querySelectorAll('#secrets tr[data-secret]')].map((r) => r.dataset.secret),
    states: [...document.querySelectorAll('#secrets tr[data-secret] td:nth-child(3)')].map((td) => td.textContent),
    bars: document.querySelectorAll('#tpm rect').length,
    total: Number(document.querySelector('#tpm').dataset.total),
    timeline: document.querySelectorAll('#timeline rect').length,
    budget: document.querySelector('#budget').textContent,
    refresh: document.querySelector('meta[http-equiv=refresh]').content,
    scripts: document.scripts.length,
    width: document.querySelector('#tpm').getBoundingClientRect().width,
  }));
  assert.deepEqual(view.secrets, ['key-one', 'key-two']);
  assert.ok(view.states.includes('REVOKED') || view.states.every((s) => s === 'ACTIVE'), view.states.join());
  assert.ok(view.bars >= 1 && view.total > 0, `${view.bars} bars, ${view.total} tokens`);
  assert.equal(view.timeline, 2);
  assert.match(view.budget, /200000/);
  assert.equal(view.refresh, '5');
  assert.equal(view.scripts, 0);
  assert.ok(view.width > 300);
  const html = await status.content();
  for (const secret of stack.forbidden()) assert.ok(!html.includes(secret), 'a secret on the status page');
  const dir = process.env.TWINKEY_ARTIFACTS ?? join(process.env.CARGO_TARGET_DIR ?? '/tmp', 'artifacts');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'status-page.png');
  await status.screenshot({ path: file, fullPage: true });
  console.log(`status page screenshot: ${file}`);
  await status.close();
});
