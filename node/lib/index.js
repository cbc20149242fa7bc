'use strict'
// twinkey for Node.js: the public API (CommonJS entry; ./index.mjs re-exports it for ESM, so
// both share one copy of every class).

const native = require('./native.js')
const errors = require('./errors.js')
const { Engine } = require('./engine.js')
const { ControlPlane } = require('./control.js')
const { watch, KeyWatch } = require('./watch.js')
const { signedFetch, RELEVANT_HEADERS } = require('./fetch.js')

/** `signer.fetch`: a `fetch` that OCI-signs every request with this signer. */
const signedFetches = new WeakMap()
Object.defineProperty(native.Signer.prototype, 'fetch', {
  get() {
    let f = signedFetches.get(this)
    if (f === undefined) {
      f = signedFetch(this)
      signedFetches.set(this, f)
    }
    return f
  },
  configurable: true,
})

/**
 * `ring.verify(token, options)`: `{ kid, alg, claims }`. The addon verifies and hands the result
 * over as JSON text, which `JSON.parse` turns into objects faster than N-API builds them.
 */
Object.defineProperty(native.TokenKeyRing.prototype, 'verify', {
  value: function verify(token, options) {
    return JSON.parse(this.verifyJson(token, options))
  },
  writable: true,
  configurable: true,
})

module.exports = {
  ApiKey: native.ApiKey,
  Attempt: native.Attempt,
  Engine,
  ManualClock: native.ManualClock,
  Signer: native.Signer,
  StreamMonitor: native.StreamMonitor,
  Budget: native.Budget,
  BudgetCharge: native.BudgetCharge,
  usageFromBody: (body) => native.usageFromBody(typeof body === 'string' ? Buffer.from(body) : body),
  requestFacts: (path, body, defaultOutputTokens) =>
    native.requestFacts(String(path), typeof body === 'string' ? Buffer.from(body) : (body ?? Buffer.alloc(0)), defaultOutputTokens ?? undefined),
  parseRateLimitHeaders: native.parseRateLimitHeaders,
  Fleet: native.NativeFleet,
  fleet: (engine, options) => engine.joinFleet(options),
  watch,
  KeyWatch,
  ControlPlane,
  TokenKeyRing: native.TokenKeyRing,
  RelayGate: native.RelayGate,
  Admission: native.Admission,
  signedFetch,
  RELEVANT_HEADERS,
  RELAY_ERROR_HEADER: native.relayErrorHeader(),
  TwinkeyError: errors.TwinkeyError,
  KeyDocumentError: errors.KeyDocumentError,
  SecretError: errors.SecretError,
  EngineError: errors.EngineError,
  NoUsableSecretError: errors.NoUsableSecretError,
  StreamInterruptedError: errors.StreamInterruptedError,
  SigningError: errors.SigningError,
  InvalidRequestError: errors.InvalidRequestError,
  TransportError: errors.TransportError,
  ServiceError: errors.ServiceError,
  TokenError: errors.TokenError,
  RotationError: errors.RotationError,
  BudgetExceededError: errors.BudgetExceededError,
  findTwinkeyError: errors.findTwinkeyError,
}
