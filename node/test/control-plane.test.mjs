// ControlPlane against the emulator's control plane (OCI-signed requests, verified by the
// emulator with the principal `twinkey emulate --init` registers): the eight operations, list
// pagination (pages and the async iterator), etag mismatch, OCI error answers, bad input, and
// no secret value in anything but the ApiKey that create and renew return.
import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { after, before, describe, test } from 'node:test'
import { ApiKey, ControlPlane, Engine, InvalidRequestError, ServiceError, Signer } from '../lib/index.mjs'
import { startEmulator } from './support/emulator.mjs'

const TWO = [{ keyName: 'key-one' }, { keyName: 'key-two' }]

/** Every way a value can be shown. */
function shown(value) {
  return [inspect(value), inspect(value, { showHidden: true, getters: true, depth: Infinity }), JSON.stringify(value) ?? ''].join('\n')
}

/** The secret values an ApiKey holds. */
function values(key) {
  return JSON.parse(key.toJsonExposingSecrets()).keys.map((k) => k.key)
}

async function rejection(promise) {
  return promise.then(
    () => assert.fail('the call should fail'),
    (e) => e,
  )
}

describe('ControlPlane against the emulator', () => {
  let emu
  let cp
  before(async () => {
    emu = await startEmulator()
    cp = new ControlPlane(await Signer.fromConfig(emu.ociConfig), { endpoint: emu.controlPlane })
  })
  after(async () => {
    await emu?.stop()
  })

  test('each secret its own expiry at creation (staggered)', async () => {
    const [one, two] = ['2031-01-01T00:00:00.000Z', '2031-07-01T00:00:00.000Z']
    const keyDetails = [
      { keyName: 'key-one', timeExpiry: one },
      { keyName: 'key-two', timeExpiry: two },
    ]
    const created = await cp.create({ displayName: 'node-staggered', compartmentId: emu.tenancy, keyDetails })
    assert.deepEqual(created.data.keys.map((k) => k.timeExpiry), [one, two])
    const got = await cp.get(created.data.id)
    assert.deepEqual(got.data.keys.map((k) => k.timeExpiry), [one, two])
  })

  test('the eight operations round-trip', async () => {
    // Create: the answer's data has masks only; its key holds both new values, once.
    const created = await cp.create({ displayName: 'node-ops', compartmentId: emu.tenancy, keyDetails: TWO, freeformTags: { team: 'node' } })
    assert.equal(created.status, 200)
    assert.ok(created.etag && created.opcRequestId)
    assert.equal(created.attempts, 1)
    const id = created.data.id
    assert.match(id, /^ocid1\.generativeaiapikey\./)
    assert.deepEqual(
      created.data.keys.map((k) => [k.keyName, k.state, typeof k.keyMask]),
      [
        ['key-one', 'ACTIVE', 'string'],
        ['key-two', 'ACTIVE', 'string'],
      ],
    )
    assert.ok(created.key instanceof ApiKey)
    const secrets = values(created.key)
    assert.equal(secrets.length, 2)
    for (const v of secrets) {
      assert.ok(typeof v === 'string' && v.length > 8)
      assert.ok(!shown(created).includes(v), 'the answer shows a secret value')
    }
    // The key works for inference straight away.
    const engine = new Engine(created.key)
    const r = await engine.fetch(`${emu.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai.gpt-oss-120b', messages: [{ role: 'user', content: 'hi' }] }),
    })
    assert.equal(r.status, 200)
    await r.arrayBuffer()

    const got = await cp.get(id, { opcRequestId: 'node-test-get-1' })
    assert.equal(got.opcRequestId, 'node-test-get-1')
    assert.equal(got.key, undefined, 'get returns no ApiKey (no values)')
    assert.equal(got.data.displayName, 'node-ops')
    assert.deepEqual(got.data.freeformTags, { team: 'node' })

    const updated = await cp.update(id, { displayName: 'node-ops-2', description: 'renamed' }, { ifMatch: got.etag })
    assert.equal(updated.data.displayName, 'node-ops-2')
    assert.equal(updated.data.description, 'renamed')
    assert.notEqual(updated.etag, got.etag)

    const deactivated = await cp.setState(id, 'key-two', 'INACTIVE')
    assert.deepEqual(
      deactivated.data.keys.map((k) => k.state),
      ['ACTIVE', 'INACTIVE'],
    )

    const until = new Date(Date.now() + 30 * 86_400_000).toISOString()
    const renewed = await cp.renew(id, 'key-two', { until, retryToken: 'node-renew-token-1' })
    assert.equal(renewed.data.keys[1].state, 'ACTIVE')
    assert.equal(renewed.data.keys[1].timeExpiry.slice(0, 16), until.slice(0, 16))
    const fresh = values(renewed.key)[1]
    assert.ok(fresh && fresh !== secrets[1], 'renew returns the new value')
    assert.ok(!shown(renewed).includes(fresh))

    const moved = await cp.changeCompartment(id, 'ocid1.compartment.oc1..nodemoved')
    assert.equal(moved.status, 200)
    assert.equal((await cp.get(id)).data.compartmentId, 'ocid1.compartment.oc1..nodemoved')
    const listed = await cp.list({ compartmentId: 'ocid1.compartment.oc1..nodemoved', id })
    assert.deepEqual(
      listed.items.map((k) => k.id),
      [id],
    )
    assert.equal(listed.nextPage, undefined)

    const deleted = await cp.delete(id)
    assert.ok(deleted.status >= 200 && deleted.status < 300)
    assert.equal((await cp.get(id)).data.lifecycleState, 'DELETED')
  })

  test('list pagination: pages, the async iterator over pages, listAll', async () => {
    const compartmentId = 'ocid1.compartment.oc1..nodepaging'
    const ids = []
    for (const name of ['page-a', 'page-b', 'page-c', 'page-d', 'page-e']) {
      ids.push((await cp.create({ displayName: name, compartmentId, keyDetails: TWO })).data.id)
    }
    const first = await cp.list({ compartmentId, limit: 2, sortBy: 'displayName', sortOrder: 'ASC' })
    assert.deepEqual(
      first.items.map((k) => k.displayName),
      ['page-a', 'page-b'],
    )
    assert.ok(first.nextPage)
    const second = await cp.list({ compartmentId, limit: 2, sortBy: 'displayName', sortOrder: 'ASC', page: first.nextPage })
    assert.deepEqual(
      second.items.map((k) => k.displayName),
      ['page-c', 'page-d'],
    )
    const pages = []
    for await (const page of cp.listPages({ compartmentId, limit: 2, sortBy: 'displayName', sortOrder: 'DESC' })) pages.push(page)
    assert.deepEqual(
      pages.map((p) => p.items.map((k) => k.displayName)),
      [['page-e', 'page-d'], ['page-c', 'page-b'], ['page-a']],
    )
    assert.equal(pages.at(-1).nextPage, undefined)
    const all = await cp.listAll({ compartmentId, limit: 2 })
    assert.deepEqual(all.map((k) => k.id).sort(), [...ids].sort())
    for (const k of all) assert.ok(k.keys.every((s) => s.key === undefined && s.keyMask))
  })

  test('an etag mismatch is ServiceError 412; OCI error answers carry status, ociCode, requestId', async () => {
    const { data, etag } = await cp.create({ displayName: 'node-etag', compartmentId: emu.tenancy, keyDetails: TWO })
    await cp.update(data.id, { description: 'changed' }, { ifMatch: etag })
    const stale = await rejection(cp.update(data.id, { description: 'again' }, { ifMatch: etag }))
    assert.ok(stale instanceof ServiceError, String(stale))
    assert.equal(stale.code, 'SERVICE_ERROR')
    assert.equal(stale.family, 'service')
    assert.equal(stale.status, 412)
    assert.equal(stale.ociCode, 'NoEtagMatch')
    assert.match(stale.requestId, /^[0-9A-F]{32}$/)
    assert.equal((await cp.get(data.id)).data.description, 'changed')

    const missing = await rejection(cp.get('ocid1.generativeaiapikey.oc1.us-chicago-1.nosuchkey', { retries: false }))
    assert.ok(missing instanceof ServiceError)
    assert.equal(missing.status, 404)
    assert.equal(missing.ociCode, 'NotAuthorizedOrNotFound')

    const conflict = await rejection(
      cp.setState(data.id, 'key-one', 'REVOKED').then(() => cp.setState(data.id, 'key-one', 'ACTIVE', { retries: false })),
    )
    assert.ok(conflict instanceof ServiceError)
    assert.equal(conflict.status, 409)
  })

  test('bad input is refused before anything is sent', async () => {
    for (const call of [
      () => cp.create({ displayName: 'x', compartmentId: emu.tenancy, keyDetails: [{ keyName: 'key-one' }] }),
      () => cp.create({ displayName: 'x', compartmentId: emu.tenancy, keyDetails: 'two please' }),
      () => cp.setState('ocid1.generativeaiapikey.oc1.us-chicago-1.x', 'key-one', 'DELETED'),
      () => cp.list({ compartmentId: emu.tenancy, sortOrder: 'UP' }),
      () => cp.get('id\r\nx-injected: 1'),
      () => cp.get('ocid1.generativeaiapikey.oc1.us-chicago-1.x', { opcRequestId: 'bad id' }),
      () => cp.create({ displayName: 'x', compartmentId: emu.tenancy, keyDetails: TWO }, { ifMatch: 'etag' }),
    ]) {
      const e = await rejection(call())
      assert.ok(e instanceof InvalidRequestError, `${call}: ${e}`)
      assert.equal(e.code, 'INVALID_REQUEST')
    }
    assert.throws(() => new ControlPlane(cp, { endpoint: emu.controlPlane }), /Signer/)
    const signer = await Signer.fromConfig(emu.ociConfig)
    assert.throws(
      () => new ControlPlane(signer, { endpoint: `${emu.controlPlane}/20231130` }),
      (e) => e instanceof InvalidRequestError,
    )
    assert.equal(new ControlPlane(signer, { region: 'eu-frankfurt-1' }).endpoint, 'https://generativeai.eu-frankfurt-1.oci.oraclecloud.com')
    assert.equal(String(cp), `ControlPlane ${emu.controlPlane}`)
    assert.equal(inspect(cp), `ControlPlane ${emu.controlPlane}`)
  })
})
