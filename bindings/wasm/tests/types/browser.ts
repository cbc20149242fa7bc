// Type-checks the browser entry as a page uses it (tsc -p tests/types): `twinkey` resolves to
// node/browser/index.d.ts through the `browser` export condition, and `twinkey/browser` too.
import OpenAI from 'openai';
import { TokenClient, isTwinkeyError, init, type TokenClientOptions } from 'twinkey';
import { TokenClient as SameClient } from 'twinkey/browser';

const options: TokenClientOptions = {
  relayUrl: 'https://relay.example',
  getToken: async () => (await fetch('/token')).text(),
  refreshMarginMs: 10_000,
};
const relay: SameClient = new TokenClient(options);
const client = new OpenAI({ dangerouslyAllowBrowser: true, apiKey: 'unused', baseURL: relay.baseURL, fetch: relay.fetch });

export async function run(): Promise<string> {
  await init();
  try {
    const r = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    return r.choices[0]?.message.content ?? '';
  } catch (e) {
    if (isTwinkeyError(e)) return e.code;
    throw e;
  } finally {
    relay.clear();
  }
}

// The browser API takes server tokens only: there is no option for a secret.
// @ts-expect-error -- unknown option
new TokenClient({ relayUrl: 'x', getToken: () => 't', secret: 'sk-...' });
new TokenClient({ relayUrl: 'x', getToken: () => ({ token: 't' }) });
