// The demo's Node path (`make demo`, scripts/demo.sh): the real openai npm SDK drives chat
// completions (every third one streamed) through `engine.fetch` against the emulator; half-way
// the secret in use is revoked on the emulator, behind twinkey's back. Prints a report and
// exits non-zero if any request failed.
//
//   node node/examples/demo.mjs --base-url URL --admin-url URL --key-file FILE \
//     [--requests 300] [--concurrency 16]
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import OpenAI from 'openai'
import { ApiKey, Engine, findTwinkeyError } from '../lib/index.mjs'

const { values: args } = parseArgs({
  options: {
    'base-url': { type: 'string' },
    'admin-url': { type: 'string' },
    'key-file': { type: 'string' },
    requests: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '16' },
  },
})
for (const required of ['base-url', 'admin-url', 'key-file']) {
  if (!args[required]) throw new Error(`--${required} is required`)
}
const total = Number(args.requests)
const concurrency = Number(args.concurrency)
const MODEL = 'openai.gpt-oss-120b'

const doc = JSON.parse(readFileSync(args['key-file'], 'utf8'))
const key = ApiKey.fromJson(JSON.stringify(doc))
const events = []
const engine = new Engine(key, { onEvent: (e) => events.push(e) })
const client = new OpenAI({ baseURL: args['base-url'], apiKey: 'unused', fetch: engine.fetch })

async function admin(method, path, body) {
  const res = await fetch(`${args['admin-url']}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status}`)
  return res.json()
}

async function one(i) {
  const messages = [{ role: 'user', content: `demo request ${i}` }]
  if (i % 3 === 2) {
    const stream = await client.chat.completions.create({ model: MODEL, messages, stream: true, stream_options: { include_usage: true } })
    let tokens = 0
    for await (const chunk of stream) tokens = chunk.usage?.total_tokens ?? tokens
    return tokens
  }
  const r = await client.chat.completions.create({ model: MODEL, messages })
  return r.usage?.total_tokens ?? 0
}

const started = performance.now()
let next = 0
let done = 0
let succeeded = 0
let tokens = 0
let revoked
let revoking
const errors = []
async function worker() {
  while (next < total) {
    const i = next++
    try {
      tokens += await one(i)
      succeeded++
    } catch (error) {
      errors.push(`request ${i}: ${findTwinkeyError(error)?.code ?? ''} ${error.message}`)
    }
    done++
    if (done === Math.floor(total / 2) && revoking === undefined) {
      const secret = engine.current()
      const fp = engine.status().secrets.find((s) => s.name === secret).fingerprint
      revoked = { secret, fingerprint: fp, afterRequests: done }
      revoking = admin('POST', `/keys/${doc.id}/setstate`, { keyName: secret, state: 'REVOKED' })
    }
  }
}
await Promise.all(Array.from({ length: concurrency }, worker))
await revoking
const elapsed = (performance.now() - started) / 1000

const counts = (await admin('GET', '/counts')).secrets.filter((c) => c.keyId === doc.id)
const states = Object.fromEntries((await admin('GET', `/keys/${doc.id}`)).keys.map((k) => [k.keyName, k.state]))
const status = engine.status()
const failovers = events.filter((e) => e.kind === 'failed_over')
const replays = status.secrets.reduce((n, s) => n + s.counters.rejected, 0)

const pad = (s) => s.padEnd(17)
console.log(`Node (openai ${(await import('openai/version')).VERSION} via engine.fetch, Node ${process.version}): ${total} requests, ${concurrency} in flight at a time, ${Math.floor(total / 3)} streaming`)
console.log(`  ${pad('succeeded')}  ${succeeded}`)
console.log(`  ${pad('failed')}  ${total - succeeded}`)
console.log(`  ${pad('fail-overs')}  ${failovers.length}  (${failovers.map((e) => `${e.secret} -> ${e.to}`).join(', ')})`)
console.log(`  ${pad('extra round trips')}  ${replays}  (one replay per request sent with the revoked secret before the switch)`)
console.log(`  ${pad('revoked')}  ${revoked ? `${revoked.secret} (fp ${revoked.fingerprint}) after ${revoked.afterRequests} requests` : 'nothing'}`)
console.log(`  ${pad('tokens (usage)')}  ${tokens}`)
counts.forEach((c, i) => {
  const label = i === 0 ? 'emulator counts' : ''
  console.log(
    `  ${pad(label)}  ${c.secret} (fp ${c.fingerprint}) ${(states[c.secret] ?? '?').padEnd(8)} ${String(c.requests).padStart(4)} requests: ${String(c.accepted).padStart(4)} accepted, ${String(c.rejected).padStart(3)} rejected`,
  )
})
console.log(`  ${pad('engine now uses')}  ${engine.current()}`)
console.log(`  ${pad('elapsed')}  ${elapsed.toFixed(2)} s`)
for (const e of errors.slice(0, 10)) console.log(`  ${pad('error')}  ${e}`)
process.exitCode = errors.length === 0 ? 0 : 1
