'use strict'
// `ControlPlane`: the eight API-key operations of OCI Generative AI and the zero-downtime
// rotation, as Promises. Everything runs in the addon (twinkey-client's control-plane client
// and rotation runner on a tokio runtime); this class only passes arguments through, walks
// pages for the async iterator and delivers rotation progress to the caller's callback.

const { inspect } = require('node:util')
const native = require('./native.js')
const { nativeOf } = require('./engine.js')

/** Calls the caller's progress callback; a callback that throws does not stop the rotation. */
function progressDelivery(onProgress) {
  return (progress) => {
    try {
      onProgress(progress)
    } catch (error) {
      process.emitWarning(error instanceof Error ? error : new Error(String(error)), {
        type: 'TwinkeyListenerWarning',
        detail: `the onProgress callback threw on the rotation event ${progress.kind}`,
      })
    }
  }
}

/**
 * The API-key control plane of one endpoint, signed by one Signer (OCI "Signature version 1").
 * Every call is retried like the OCI SDKs do (rate limits, conflicts, server errors and
 * timeouts; pass `{ retries: false }` to send once); an error answer rejects with ServiceError (`status`,
 * `ociCode`, `requestId`).
 */
/** The NativeControlPlane behind a ControlPlane (for this package's own modules). */
let nativeControlOf

class ControlPlane {
  #native

  static {
    nativeControlOf = (cp) => cp.#native
  }

  /**
   * `new ControlPlane(signer, { endpoint })` for an emulator or a given endpoint,
   * `{ region }` for a region's endpoint; default: the signer's profile region.
   */
  constructor(signer, options = {}) {
    this.#native = new native.NativeControlPlane(signer, options)
  }

  /** The endpoint the operations go to. */
  get endpoint() {
    return this.#native.endpoint
  }

  /** The region, when known. */
  get region() {
    return this.#native.region ?? undefined
  }

  /** CreateApiKey; the answer's `key` holds the two new values (shown this once). */
  create(details, options) {
    return this.#native.create(details, options)
  }

  /** GetApiKey. */
  get(id, options) {
    return this.#native.get(id, options)
  }

  /** ListApiKeys: one page; its `nextPage` is the next page's `page`. */
  list(params, options) {
    return this.#native.list(params, options)
  }

  /** Every page of a listing, in order (an async iterator; `for await (const page of ...)`). */
  async *listPages(params, options) {
    let page = params.page
    do {
      const answer = await this.#native.list({ ...params, page }, options)
      yield answer
      page = answer.nextPage
    } while (page !== undefined)
  }

  /** Every key of a listing (all pages). */
  listAll(params) {
    return this.#native.listAll(params)
  }

  /** UpdateApiKey (`displayName`, `description`, `freeformTags`, `definedTags`). */
  update(id, details, options) {
    return this.#native.update(id, details, options)
  }

  /** DeleteApiKey. */
  delete(id, options) {
    return this.#native.delete(id, options)
  }

  /** SetApiKeyState: the state as OCI spells it (`ACTIVE`, `INACTIVE`, or `REVOKED`: irreversible). */
  setState(id, keyName, state, options) {
    return this.#native.setState(id, keyName, state, options)
  }

  /**
   * RenewApiKey: a new value (in the answer's `key`, shown once), active and valid until
   * `options.until` (RFC 3339 or epoch ms; default: the service's, 90 days).
   */
  renew(id, keyName, options = {}) {
    const { until, ...call } = options
    return this.#native.renew(id, keyName, until ?? undefined, call)
  }

  /** ChangeApiKeyCompartment. */
  changeCompartment(id, compartmentId, options) {
    return this.#native.changeCompartment(id, compartmentId, options)
  }

  /**
   * The zero-downtime rotation of key `keyId` (`twinkey rotate`): make the standby usable,
   * verify it with a real request, switch, retire the old secret. Checkpointed in
   * `options.stateFile`: run it again to resume. With `dryRun` it resolves with the plan and
   * changes nothing. The standby is probed with its value from `keyFile`, else `key` (an
   * ApiKey holding the values), else `engine`'s key. `engine` (an Engine of this process) is
   * switched at step 3; `onProgress` gets every progress event, in order, before the Promise
   * settles.
   */
  rotate(keyId, options = {}) {
    const { key, engine, onProgress, ...rest } = options
    return this.#native.rotate(
      keyId,
      rest,
      key ?? undefined,
      engine == null ? undefined : nativeOf(engine),
      onProgress == null ? undefined : progressDelivery(onProgress),
    )
  }

  toString() {
    return this.#native.toString()
  }

  [inspect.custom]() {
    return this.toString()
  }
}

module.exports = { ControlPlane, nativeControlOf }
