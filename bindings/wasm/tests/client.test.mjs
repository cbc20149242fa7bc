// The browser entry's TokenClient (node/browser, the wasm core inside) run under Node against
// the real relay and emulator, with the real openai SDK: one provider call for concurrent
// requests, a refresh and one replay when the relay refuses a stale token, provider failures,
// streaming, and fail-over in the relay when the secret in use is revoked.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import OpenAI from 'openai';
import { TokenClient, isTwinkeyError } from 'twinkey/browser';

import { Stack, servedBy, sleep } from './harness.mjs';

let stack;
before(async () => {
  stack = await Stack.start();
});
after(async () => {
  await stack?.stop();
});

const MODEL = 'openai.gpt-oss-120b';
const ask = (client, content, extra = {}) =>
  client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content }], ...extra });

function setup({ provider, ttl = 600, margin } = {}) {
  const calls = { n: 0 };
  const relay = new TokenClient({
    relayUrl: stack.relayUrl,
    refreshMarginMs: margin,
    getToken: async () => {
      calls.n++;
      return provider ? provider(calls.n) : stack.mint({ ttl });
    },
  });
  const client = new OpenAI({ apiKey: 'unused', baseURL: relay.baseURL, fetch: relay.fetch, maxRetries: 0 });
  return { relay, client, calls };
}

test('concurrent requests share one token fetch', async () => {
  const { client, calls } = setup();
  const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => ask(client, `hello ${i}`)));
  assert.equal(replies.length, 8);
  assert.ok(replies.every((r) => r.choices[0].message.content.length > 0));
  assert.equal(calls.n, 1);
  await ask(client, 'again');
  assert.equal(calls.n, 1, 'the cached token is reused');
});

test('a token the relay refuses as stale is refreshed and the request replayed once', async () => {
  // The first token handed out is already past its end (minted for 1 s, served 1.2 s later):
  // the relay refuses it, the client fetches a fresh one and replays.
  const stale = await stack.mint({ ttl: 1 });
  await sleep(1200);
  const { client, calls } = setup({ provider: (n) => (n === 1 ? stale : stack.mint()) });
  const reply = await ask(client, 'replayed');
  assert.ok(reply.choices[0].message.content.includes('replayed'));
  assert.equal(calls.n, 2);

  // A provider that keeps serving stale tokens: one replay only, then the relay's error.
  const { client: stuck, calls: stuckCalls } = setup({ provider: () => stale });
  await assert.rejects(ask(stuck, 'x'), (e) => e.status === 401 && e.code === 'TOKEN_EXPIRED');
  assert.equal(stuckCalls.n, 2);
});

test('tokens are refreshed before their end (half-life for short tokens)', async () => {
  const { client, calls } = setup({ ttl: 2 });
  await ask(client, 'one');
  assert.equal(calls.n, 1);
  await sleep(1100);
  await ask(client, 'two');
  assert.equal(calls.n, 2);
});

test('provider failures reach every waiting caller once, then a new fetch is made', async () => {
  let fail = true;
  const { client, calls } = setup({
    provider: async () => {
      await sleep(20);
      if (fail) throw new Error('app server down');
      return stack.mint();
    },
  });
  const results = await Promise.allSettled([ask(client, 'a'), ask(client, 'b'), ask(client, 'c')]);
  assert.ok(results.every((r) => r.status === 'rejected'));
  const cause = results[0].reason.cause ?? results[0].reason;
  assert.ok(isTwinkeyError(cause) && cause.code === 'TOKEN_PROVIDER', String(cause));
  assert.equal(calls.n, 1);
  fail = false;
  await ask(client, 'recovered');
  assert.equal(calls.n, 2);

  const bogus = setup({ provider: () => 'not-a-token' });
  await assert.rejects(ask(bogus.client, 'x'), (e) => (e.cause ?? e).code === 'TOKEN_PROVIDER');
});

test('streams through the relay and survives the revocation of the secret in use', async () => {
  const { client } = setup();
  const before = await stack.counts();
  let text = '';
  const stream = await ask(client, 'stream this please', { stream: true });
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  assert.ok(text.includes('stream'), text);
  const inUse = servedBy(before, await stack.counts());
  assert.ok(inUse, 'a secret served the stream');

  await stack.setState(inUse, 'REVOKED');
  const mid = await stack.counts();
  let again = '';
  for await (const chunk of await ask(client, 'after revocation', { stream: true })) {
    again += chunk.choices[0]?.delta?.content ?? '';
  }
  assert.ok(again.includes('revocation'), again);
  const reply = await ask(client, 'and once more');
  assert.ok(reply.choices[0].message.content.length > 0);
  const end = await stack.counts();
  assert.equal(end[inUse].rejected - (mid[inUse]?.rejected ?? 0), 1, 'one 401, then fail-over');
  const other = Object.keys(end).find((n) => n !== inUse);
  assert.ok(end[other].accepted >= 2);
});

test('the token is only ever sent to the relay', async () => {
  const { relay } = setup();
  await assert.rejects(relay.fetch('https://api.openai.com/v1/models'), (e) => e.code === 'INVALID_REQUEST');
  await assert.rejects(relay.fetch(`${stack.relayUrl}@evil.example/v1/models`), (e) => e.code === 'INVALID_REQUEST');
});
