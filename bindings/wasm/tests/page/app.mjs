// The page under test: the openai SDK with twinkey's browser TokenClient, bundled by esbuild.
// It knows the relay's URL and its own server's /token route; it never sees a secret.
import OpenAI from 'openai';
import { TokenClient, init } from 'twinkey';

const MODEL = 'openai.gpt-oss-120b';
const stats = { tokenFetches: 0, ok: 0, failed: 0, errors: [] };

const relay = new TokenClient({
  relayUrl: document.querySelector('meta[name="twinkey-relay"]').content,
  getToken: async () => {
    stats.tokenFetches++;
    const res = await fetch('/token', { cache: 'no-store' });
    if (!res.ok) throw new Error(`token route answered ${res.status}`);
    return res.text();
  },
});
const client = new OpenAI({
  dangerouslyAllowBrowser: true,
  apiKey: 'unused',
  baseURL: relay.baseURL,
  fetch: relay.fetch,
  maxRetries: 0,
});

async function counted(fn) {
  try {
    const out = await fn();
    stats.ok++;
    return out;
  } catch (e) {
    stats.failed++;
    stats.errors.push(`${e.name}: ${e.message}`);
    throw e;
  }
}

function show(text) {
  const p = document.createElement('p');
  p.textContent = text;
  document.querySelector('#out').append(p);
}

window.twinkeyPage = {
  stats,
  ready: init().then(() => true),
  clear: () => relay.clear(),
  chat: (content) =>
    counted(async () => {
      const r = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content }] });
      show(r.choices[0].message.content);
      return r.choices[0].message.content;
    }),
  stream: (content) =>
    counted(async () => {
      const stream = await client.chat.completions.create({
        model: MODEL, messages: [{ role: 'user', content }], stream: true,
      });
      let text = '';
      let chunks = 0;
      for await (const chunk of stream) {
        chunks++;
        text += chunk.choices[0]?.delta?.content ?? '';
      }
      show(text);
      return { text, chunks };
    }),
};
