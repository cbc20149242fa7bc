// A typed program using twinkey's public API from ESM (checked by `tsc --noEmit --strict`;
// never run).
import { on } from 'node:events'
import OpenAI from 'openai'
import {
  ApiKey,
  Engine,
  ManualClock,
  NoUsableSecretError,
  Signer,
  StreamInterruptedError,
  TwinkeyError,
  findTwinkeyError,
  signedFetch,
  type EngineEvent,
  type EngineStatus,
  type Fetch,
  type Verdict,
} from 'twinkey'

const key: ApiKey = await ApiKey.load('key.json')
const same: ApiKey = ApiKey.fromJson(JSON.stringify(key))
const names: string[] = same.secretNames
key.renew('key-two', 'sk-new-value', '2027-01-01T00:00:00Z')

const engine = new Engine(key, {
  prefer: 'key-one',
  expirySkewMs: 60_000,
  cooldownBaseMs: 30_000,
  cooldownMaxMs: 900_000,
  expiringSoonWindowMs: 14 * 86_400_000,
  onEvent: (e: EngineEvent) => console.log(e.kind, e.secret, e.message),
  clock: new ManualClock('2026-01-01T00:00:00Z'),
})
engine.on('failed_over', (e) => console.log(`${e.secret} -> ${e.to ?? '?'}`))
engine.on('event', (e) => console.log(e.reason?.toUpperCase()))

const client = new OpenAI({ baseURL: 'http://127.0.0.1:8080/openai/v1', apiKey: 'unused', fetch: engine.fetch })
try {
  const r = await client.chat.completions.create({ model: 'openai.gpt-oss-120b', messages: [{ role: 'user', content: 'hi' }] })
  console.log(r.choices[0]?.message.content)
  const stream = await client.chat.completions.create({ model: 'openai.gpt-oss-120b', messages: [], stream: true })
  for await (const chunk of stream) console.log(chunk.choices[0]?.delta.content)
} catch (error) {
  const typed: TwinkeyError | undefined = findTwinkeyError(error)
  if (typed instanceof NoUsableSecretError) {
    for (const r of typed.reasons) console.log(r.secret, r.fingerprint, r.reason, r.message)
  } else if (typed instanceof StreamInterruptedError) {
    console.log(typed.code, typed.received)
  }
}

// The engine's loop, by hand.
let attempt = engine.begin()
const verdict: Verdict = engine.complete(attempt, 401, new Headers())
switch (verdict.kind) {
  case 'replay':
    attempt = verdict.attempt
    break
  case 'fail':
    throw verdict.error
  case 'accept':
    console.log(verdict.retryAfterMs ?? 0)
    break
  case 'need_body':
    engine.complete(attempt, 403, {}, '{"code":"NotAuthenticated"}')
    break
}
console.log(attempt.secret, attempt.fingerprint, attempt.replay, attempt.probe)
const status: EngineStatus = engine.status()
for (const s of status.secrets) console.log(s.name, s.usable, s.health, s.counters.attempts, s.reason ?? '-')
console.log(JSON.stringify(engine.toJSON()), engine.current())

for await (const [event] of on(engine, 'event')) {
  console.log((event as EngineEvent).kind)
  break
}

// OCI request signing.
const signer: Signer = await Signer.fromConfig('~/.oci/config', 'DEFAULT')
const signed = signer.sign(
  { method: 'POST', url: 'https://generativeai.us-chicago-1.oci.oraclecloud.com/20231130/apiKeys', body: '{}' },
  { dateHeader: 'x-date' },
)
console.log(signed.url, signed.headers['authorization'], signed.signingString, signer.fingerprint, signer.keyBits)
const iam: Fetch = signer.fetch
const iamClient = new OpenAI({ baseURL: 'https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/openai/v1', apiKey: 'unused', fetch: iam })
const custom: Fetch = signedFetch(Signer.fromPem('t/u/f', process.env.OCI_KEY_PEM ?? ''), { fetch: globalThis.fetch, dateHeader: 'date' })
console.log(names, iamClient.baseURL, typeof custom)
