// Where a secret may be sent: the shared destination vectors, engine.fetch refusing foreign
// hosts before anything is sent, redirects never followed, and the key's default base URL.
import assert from 'node:assert/strict'
import http from 'node:http'
import { after, before, test } from 'node:test'
import OpenAI from 'openai'
import { ApiKey, Engine, EngineError, TwinkeyError } from '../lib/index.mjs'
import { vectors } from './support/paths.mjs'

const V = vectors('destination', 'cases.json')

function engine(key, allowedHosts) {
  return new Engine(ApiKey.fromJson(JSON.stringify(key)), allowedHosts ? { allowedHosts } : undefined)
}

function code(fn) {
  try {
    fn()
    return 'ok'
  } catch (e) {
    assert.ok(e instanceof TwinkeyError, String(e))
    return e.code
  }
}

test('destination vectors', () => {
  for (const c of V.cases) {
    const e = engine(V.key, c.allowedHosts)
    let message = ''
    const got = code(() => {
      try {
        e.checkDestination(c.url)
      } catch (err) {
        message = err.message
        throw err
      }
    })
    assert.equal(got, c.expect, c.name)
    assert.ok(!message.includes('/openai/v1/'), `${c.name}: the path is not shown`)
  }
  assert.ok(V.cases.length >= 40)
})

test('allowedHosts option', () => {
  for (const c of V.options) {
    assert.equal(code(() => engine(V.key, c.allowedHosts)), c.expect, c.name)
  }
})

test('default base URL from the key region', () => {
  for (const c of V.defaultBase) {
    assert.equal(engine(c.key).defaultBaseUrl(), c.expect, c.name)
  }
})

let server
let base
const seen = []

before(async () => {
  server = http.createServer((req, res) => {
    seen.push(req.headers.authorization ?? null)
    res.writeHead(307, { location: 'https://api.openai.com/v1/models', 'content-length': '0' })
    res.end()
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${server.address().port}/openai/v1`
})

after(() => server.close())

test('engine.fetch refuses a foreign host before sending anything', async () => {
  const e = engine(V.key)
  await assert.rejects(e.fetch('https://api.openai.com/v1/models'), (err) => {
    assert.ok(err instanceof EngineError)
    assert.equal(err.code, 'DESTINATION_NOT_ALLOWED')
    assert.ok(!err.message.includes('sk-destination'))
    return true
  })
  assert.equal(e.status().secrets[0].counters.attempts, 0)
  const client = new OpenAI({ baseURL: 'https://api.openai.com/v1', apiKey: 'unused', fetch: e.fetch, maxRetries: 0 })
  await assert.rejects(client.models.list(), (err) => {
    const cause = err instanceof TwinkeyError ? err : err.cause
    assert.equal(cause?.code, 'DESTINATION_NOT_ALLOWED', String(err))
    return true
  })
})

test('a redirect to a foreign host is handed back, never followed', async () => {
  const e = engine(V.key)
  seen.length = 0
  const res = await e.fetch(`${base}/models`)
  assert.equal(res.status, 307)
  assert.equal(seen.length, 1, 'only the loopback server was called')
  assert.ok(seen[0]?.startsWith('Bearer sk-destination-'))
})
