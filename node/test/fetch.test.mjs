// engine.fetch and signer.fetch on their own, against a scripted loopback server: what is
// sent on each attempt, replays of every kind of body, 403 bodies, network errors, aborts,
// streamed responses, and OCI-signed requests.
import assert from 'node:assert/strict'
import http from 'node:http'
import { after, before, test } from 'node:test'
import { ApiKey, Engine, NoUsableSecretError, Signer, StreamInterruptedError } from '../lib/index.mjs'
import { vectors } from './support/paths.mjs'

const ONE = 'sk-fetch-one-11111111'
const TWO = 'sk-fetch-two-22222222'

let server
let base
let script = () => ({ status: 200, body: '{}' })
const seen = []

before(async () => {
  server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const request = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() }
      seen.push(request)
      const answer = script(request)
      if (answer.destroy) {
        req.socket.destroy()
        return
      }
      res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers ?? {}) })
      if (answer.chunks) {
        res.flushHeaders()
        const write = (i) => {
          if (i === answer.chunks.length) return answer.cut ? req.socket.destroy() : res.end()
          res.write(answer.chunks[i])
          setTimeout(() => write(i + 1), 1)
        }
        write(0)
      } else {
        res.end(answer.body ?? '')
      }
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${server.address().port}`
})

after(() => server.close())

function engine(events = []) {
  const key = ApiKey.fromJson(
    JSON.stringify({
      keys: [
        { keyName: 'key-one', state: 'ACTIVE', key: ONE },
        { keyName: 'key-two', state: 'ACTIVE', key: TWO },
      ],
    }),
  )
  return new Engine(key, { onEvent: (e) => events.push(e) })
}

/** 401 for key-one, 200 (echoing the body) for key-two. */
const rejectOne = (r) => (r.headers.authorization === `Bearer ${ONE}` ? { status: 401, body: '{"code":"NotAuthenticated"}' } : { status: 200, body: r.body })

test('a 401 replays the same request once on the other secret, with every kind of body', async () => {
  script = rejectOne
  const bodies = {
    string: () => 'plain string',
    bytes: () => new TextEncoder().encode('bytes'),
    blob: () => new Blob(['blob']),
    params: () => new URLSearchParams({ a: '1', b: 'two' }),
    stream: () => new Blob(['readable ', 'stream']).stream(),
    iterable: () =>
      (async function* chunks() {
        yield 'async '
        yield Buffer.from('iterable')
      })(),
  }
  for (const [name, make] of Object.entries(bodies)) {
    const e = engine()
    seen.length = 0
    const init = { method: 'POST', body: make(), headers: { 'x-custom': name, authorization: 'Bearer unused' } }
    if (name === 'stream') init.duplex = 'half'
    const res = await e.fetch(`${base}/v1/echo`, init)
    assert.equal(res.status, 200, name)
    assert.equal(seen.length, 2, name)
    assert.deepEqual(
      seen.map((r) => r.headers.authorization),
      [`Bearer ${ONE}`, `Bearer ${TWO}`],
    )
    assert.equal(seen[0].body, seen[1].body, `${name}: the replay sends the same body`)
    assert.ok(seen[1].body.length > 0, name)
    assert.equal(seen[1].headers['x-custom'], name)
    assert.equal(await res.text(), seen[1].body)
  }
})

test('a Request object works as input, and its body is replayed', async () => {
  script = rejectOne
  seen.length = 0
  const res = await engine().fetch(new Request(`${base}/v1/req`, { method: 'PUT', body: 'from a Request', headers: { 'x-a': 'b' } }))
  assert.equal(res.status, 200)
  assert.deepEqual(
    seen.map((r) => [r.method, r.body, r.headers['x-a']]),
    [
      ['PUT', 'from a Request', 'b'],
      ['PUT', 'from a Request', 'b'],
    ],
  )
})

test('a 403 is judged on its body: an auth code replays, another code is handed on intact', async () => {
  script = (r) =>
    r.headers.authorization === `Bearer ${ONE}` ? { status: 403, body: '{"code":"NotAuthenticated","message":"no"}' } : { status: 200, body: 'ok' }
  seen.length = 0
  assert.equal(await (await engine().fetch(`${base}/a`)).text(), 'ok')
  assert.equal(seen.length, 2)

  const policy = '{"code":"NotAllowed","message":"policy says no"}'
  script = () => ({ status: 403, body: policy })
  seen.length = 0
  const res = await engine().fetch(`${base}/b`)
  assert.equal(res.status, 403)
  assert.equal(await res.text(), policy)
  assert.equal(seen.length, 1)
})

test('a rejected replay throws NoUsableSecretError; later requests fail fast unsent', async () => {
  script = () => ({ status: 401, body: '{}' })
  seen.length = 0
  const events = []
  const e = engine(events)
  await assert.rejects(e.fetch(`${base}/c`), (err) => err instanceof NoUsableSecretError && err.reasons.length === 2)
  assert.equal(seen.length, 2)
  await assert.rejects(e.fetch(`${base}/c`), NoUsableSecretError)
  assert.equal(seen.length, 2)
  assert.deepEqual(
    events.map((x) => x.kind),
    ['secret_rejected', 'failed_over', 'standby_unavailable', 'secret_rejected', 'no_usable_secret'],
  )
})

test('a network error abandons the attempt and is rethrown; the secret stays in use', async () => {
  script = () => ({ destroy: true })
  const e = engine()
  await assert.rejects(e.fetch(`${base}/d`), TypeError)
  const one = e.status().secrets[0]
  assert.equal(one.counters.inconclusive, 1)
  assert.equal(e.current(), 'key-one')
  script = () => ({ status: 200, body: 'back' })
  assert.equal(await (await e.fetch(`${base}/d`)).text(), 'back')
})

test('an aborted request is abandoned and rethrows the AbortError', async () => {
  script = () => ({ status: 200, chunks: ['x'], cut: false })
  const e = engine()
  const controller = new AbortController()
  controller.abort()
  await assert.rejects(e.fetch(`${base}/e`, { signal: controller.signal }), { name: 'AbortError' })
  assert.equal(e.status().secrets[0].counters.inconclusive, 1)
})

test('streamed responses pass through; one that ends without its end marker errors', async () => {
  const sse = { 'content-type': 'text/event-stream' }
  const events = ['data: {"choices":[]}\n\n', 'data: {"choices":[]}\n\n']
  script = () => ({ status: 200, headers: sse, chunks: [...events, 'data: [DONE]\n\n'] })
  const whole = await (await engine().fetch(`${base}/v1/chat/completions`, { method: 'POST', body: '{}' })).text()
  assert.equal(whole, `${events.join('')}data: [DONE]\n\n`)

  script = () => ({ status: 200, headers: sse, chunks: events })
  const cleanButShort = await engine().fetch(`${base}/v1/chat/completions`, { method: 'POST', body: '{}' })
  await assert.rejects(cleanButShort.text(), (err) => err instanceof StreamInterruptedError && err.received > 0)

  script = () => ({ status: 200, headers: sse, chunks: events, cut: true })
  const cut = await engine().fetch(`${base}/v1/chat/completions`, { method: 'POST', body: '{}' })
  await assert.rejects(cut.text(), (err) => err instanceof StreamInterruptedError && err.cause !== undefined)

  script = () => ({ status: 200, body: '{"not":"a stream"}' })
  const plain = await engine().fetch(`${base}/v1/chat/completions`)
  assert.equal(await plain.text(), '{"not":"a stream"}')
})

test("the caller's abort mid-stream stays an AbortError (not a cut)", async () => {
  const chunks = Array.from({ length: 50 }, () => 'data: {"choices":[]}\n\n')
  script = () => ({ status: 200, headers: { 'content-type': 'text/event-stream' }, chunks })
  const controller = new AbortController()
  const res = await engine().fetch(`${base}/v1/chat/completions`, { method: 'POST', body: '{}', signal: controller.signal })
  const reader = res.body.getReader()
  await reader.read()
  controller.abort()
  await assert.rejects(
    (async () => {
      for (;;) if ((await reader.read()).done) break
    })(),
    { name: 'AbortError' },
  )
})

test('a listener that throws does not break the request', async () => {
  script = rejectOne
  const e = engine()
  const warnings = []
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  e.on('failed_over', () => {
    throw new Error('listener bug')
  })
  try {
    assert.equal((await e.fetch(`${base}/f`)).status, 200)
    await new Promise((resolve) => setImmediate(resolve))
  } finally {
    process.off('warning', onWarning)
  }
  assert.ok(warnings.some((w) => w.message === 'listener bug'))
})

test('signer.fetch sends the request exactly as signed', async () => {
  const key = vectors('signing', 'keys.json').keys['rsa2048-pkcs8']
  const keyId = 'ocid1.tenancy.oc1..t/ocid1.user.oc1..u/3e:af:72:33:e7:10:23:6d:53:69:e9:f5:96:74:15:39'
  const signer = Signer.fromPem(keyId, key.private_key_pem)
  script = () => ({ status: 200, body: '{}' })
  for (const [method, body] of [
    ['GET', undefined],
    ['POST', '{"displayName":"x"}'],
    ['PUT', new URLSearchParams({ a: 'b' })],
    ['DELETE', undefined],
  ]) {
    seen.length = 0
    const url = `${base}/20231130/apiKeys?compartmentId=ocid1.compartment.oc1..c&limit=5`
    const res = await signer.fetch(url, { method, body, headers: { 'opc-request-id': 'r1' } })
    assert.equal(res.status, 200)
    const got = seen[0]
    assert.equal(got.method, method)
    // Re-sign what arrived, at the date it carries: the same signature must come out.
    const sent = Object.fromEntries(
      Object.entries(got.headers).filter(([name]) => ['opc-request-id', 'content-type', 'x-content-sha256', 'content-length', 'date'].includes(name)),
    )
    const again = signer.sign(
      { method, url: `${base}${got.url}`, headers: sent, body: got.body || undefined },
      { now: Date.parse(got.headers.date) },
    )
    assert.equal(got.headers.authorization, again.headers.authorization, method)
    assert.match(got.headers.authorization, /^Signature version="1",headers="date \(request-target\) host/)
  }
})

test('redirects are never followed: credentials reach only the URL the caller named', async () => {
  const redirect = { status: 307, headers: { location: '/elsewhere' }, body: '' }
  script = (r) => (r.url === '/elsewhere' ? { status: 200, body: '{"followed":true}' } : redirect)
  seen.length = 0
  const res = await engine().fetch(`${base}/v1/moved`, { method: 'POST', body: '{}' })
  assert.equal(res.status, 307, 'the 3xx is handed back as it is')
  assert.deepEqual(
    seen.map((r) => r.url),
    ['/v1/moved'],
  )
  seen.length = 0
  await assert.rejects(engine().fetch(`${base}/v1/moved`, { redirect: 'error' }), TypeError)
  assert.equal(seen.length, 1)

  const key = vectors('signing', 'keys.json').keys['rsa2048-pkcs8']
  const keyId = 'ocid1.tenancy.oc1..t/ocid1.user.oc1..u/3e:af:72:33:e7:10:23:6d:53:69:e9:f5:96:74:15:39'
  seen.length = 0
  const signed = await Signer.fromPem(keyId, key.private_key_pem).fetch(`${base}/20231130/apiKeys/x`)
  assert.equal(signed.status, 307)
  assert.equal(seen.length, 1, 'a signed request is not re-sent to the redirect target')
})
