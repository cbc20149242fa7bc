// A typed program using twinkey's public API from ESM (checked by `tsc --noEmit --strict`;
// never run).
import { on } from 'node:events'
import OpenAI from 'openai'
import {
  Admission,
  ApiKey,
  ControlPlane,
  Engine,
  Fleet,
  FleetStats,
  fleet,
  KeyWatch,
  watch,
  type KeyUpdate,
  type WatchStats,
  ManualClock,
  NoUsableSecretError,
  RELAY_ERROR_HEADER,
  RelayGate,
  RotationError,
  ServiceError,
  Signer,
  StreamInterruptedError,
  TokenError,
  TokenKeyRing,
  TwinkeyError,
  findTwinkeyError,
  signedFetch,
  type ApiKeyDocument,
  type ApiKeyPage,
  type EngineEvent,
  type EngineStatus,
  type Fetch,
  type MintedToken,
  type RotationPlan,
  type RotationProgress,
  type RotationReport,
  type TokenClaims,
  type Verdict,
  type VerifiedToken,
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
  allowedHosts: ['proxy.example.com', '*.corp.example'],
  onEvent: (e: EngineEvent) => console.log(e.kind, e.secret, e.message),
  clock: new ManualClock('2026-01-01T00:00:00Z'),
})
engine.on('failed_over', (e) => console.log(`${e.secret} -> ${e.to ?? '?'}`))
engine.on('event', (e) => console.log(e.reason?.toUpperCase()))

engine.checkDestination('https://proxy.example.com/openai/v1')
const regionBase: string | null = engine.defaultBaseUrl()
console.log(regionBase)
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

// The control plane (the eight operations) and the rotation.
const cp = new ControlPlane(signer, { endpoint: 'http://127.0.0.1:8080' })
const created = await cp.create({
  displayName: 'app',
  compartmentId: 'ocid1.compartment.oc1..x',
  keyDetails: [{ keyName: 'key-one' }, { keyName: 'key-two', timeExpiry: '2027-01-01T00:00:00Z' }],
})
const fresh: ApiKey = created.key
const doc: ApiKeyDocument = created.data
console.log(doc.id, doc.keys[0]?.keyMask, created.etag, created.opcRequestId, created.attempts, cp.endpoint, cp.region)
const id = doc.id ?? ''
const got = await cp.get(id, { opcRequestId: 'abc' })
await cp.update(id, { displayName: 'renamed', freeformTags: { team: 'a' } }, { ifMatch: got.etag ?? '' })
await cp.setState(id, 'key-two', 'INACTIVE', { retries: false })
const renewed = await cp.renew(id, 'key-two', { until: Date.now() + 86_400_000, retryToken: 'token' })
console.log(renewed.key.toJsonExposingSecrets().length, fresh.secretNames)
await cp.changeCompartment(id, 'ocid1.compartment.oc1..y')
const page: ApiKeyPage = await cp.list({ compartmentId: 'ocid1.compartment.oc1..x', limit: 10, sortBy: 'timeCreated', sortOrder: 'DESC' })
console.log(page.items.length, page.nextPage ?? 'last page')
for await (const p of cp.listPages({ compartmentId: 'ocid1.compartment.oc1..x' })) console.log(p.items.map((k) => k.displayName))
const all: ApiKeyDocument[] = await cp.listAll({ compartmentId: 'ocid1.compartment.oc1..x' })
const deleted = await cp.delete(id)
console.log(all.length, deleted.status)
try {
  const plan: RotationPlan = await cp.rotate(id, { dryRun: true, stateFile: 'rotate.json' })
  console.log(plan.problems, plan.steps.map((s) => s.description ?? s.note))
  const report: RotationReport = await cp.rotate(id, {
    engine,
    keyFile: 'key.json',
    secretOut: 'key.new.json',
    revoke: true,
    renewOld: true,
    inferenceUrl: 'http://127.0.0.1:8080/openai/v1',
    probeModel: 'openai.gpt-oss-120b',
    probeTimeoutMs: 60_000,
    onProgress: (p: RotationProgress) => console.log(p.kind, p.step ?? '', p.action ?? ''),
  })
  console.log(report.standby, report.steps.map((s) => `${s.step}:${s.action}`), report.renewed[0]?.fingerprint)
} catch (error) {
  if (error instanceof RotationError) console.log(error.code)
  else if (error instanceof ServiceError) console.log(error.status, error.ociCode, error.requestId)
}

// Server tokens: the app's server mints, a Node relay admits.
const ring = TokenKeyRing.generate('EdDSA', 'ed-2026-01')
const stored: string = ring.toJson({ private: true })
const same2 = TokenKeyRing.fromJson(stored)
same2.setSigningKid('ed-2026-01')
console.log(ring.kids, ring.signingKid, JSON.stringify(ring), same2.remove('none'))
const minted: MintedToken = ring.mint(
  { subject: 'user-42', scope: { models: ['openai.gpt-oss-120b'], endpoints: ['chat.completions'], max_output_tokens: 512, max_requests: 50 }, ttlSeconds: 600 },
  { now: Date.now() },
)
const verified: VerifiedToken = ring.verify(minted.token, { audience: 'twinkey-relay', leewaySeconds: 30 })
const claims: TokenClaims = verified.claims
console.log(verified.kid, verified.alg, claims.exp, claims.twk.max_requests)
const gate = new RelayGate(ring.toJson(), { audience: 'twinkey-relay' })
try {
  const admitted: Admission = gate.admit({ method: 'POST', path: '/v1/chat/completions', authorization: `Bearer ${minted.token}`, body: '{}' })
  console.log(admitted.upstreamPath, admitted.body?.length, admitted.remaining, admitted.toJSON())
  gate.release(admitted)
} catch (error) {
  if (error instanceof TokenError) console.log(RELAY_ERROR_HEADER, error.code, error.status ?? 500, error.reply ?? '')
}

const link: Fleet = fleet(engine, { url: 'rediss://fleet:pw@127.0.0.1:6380', caFile: 'ca.pem', budgetSlice: 5000 })
const linkStats: FleetStats | null = link.stats()
console.log(link.origin, link.closed, linkStats?.budgetShared, engine.joinFleet({ url: 'redis://127.0.0.1:6379' }).origin)
link.close()

const fileWatch: KeyWatch = watch(engine, { file: 'key.json', intervalMs: 5000 })
const cpWatch = watch(engine, { controlPlane: new ControlPlane(await Signer.fromConfig('~/.oci/config')), intervalMs: 30_000, jitter: 0.1 })
const watchStats: WatchStats = fileWatch.stats()
const update: KeyUpdate = engine.followKey('{}', 'controlPlane')
console.log(fileWatch.source, cpWatch.stopped, watchStats.consecutiveFailures, watchStats.lastError ?? '', update.prefer, update.changes[0]?.change)
fileWatch.stop()
