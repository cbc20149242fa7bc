'use strict'
// `Engine`: the core's fail-over engine for one key, as a Node `EventEmitter` with a
// `fetch` for the openai SDK. Every decision is the core's (see ../native and fetch.js).

const { EventEmitter } = require('node:events')
const { inspect } = require('node:util')
const native = require('./native.js')
const { engineFetch, relevantHeaders } = require('./fetch.js')

/**
 * The fail-over engine of one API key.
 *
 * Events are emitted under their kind (`failed_over`, ...; the `EventKind` type lists them) and
 * under `'event'`, and passed to `options.onEvent`. They are delivered synchronously, before the call that caused them
 * returns. A listener that throws does not break the request: its error is reported with
 * `process.emitWarning`. For an async iterator use `events.on(engine, 'event')`.
 */
/** The NativeEngine behind an Engine (for this package's own modules, e.g. rotation). */
let nativeOf

class Engine extends EventEmitter {
  #native
  #onEvent

  static {
    nativeOf = (engine) => engine.#native
  }

  constructor(key, options = {}) {
    super()
    const { onEvent, clock, fetch, ...engineOptions } = options
    this.#onEvent = onEvent
    this.#native = new native.NativeEngine(key, engineOptions, clock ?? undefined, (event) => this.#dispatch(event))
    const base = () => fetch ?? globalThis.fetch
    Object.defineProperty(this, 'fetch', {
      value: engineFetch(this.#native, base),
      enumerable: false,
    })
  }

  #dispatch(event) {
    for (const deliver of [() => this.#onEvent?.(event), () => this.emit(event.kind, event), () => this.emit('event', event)]) {
      try {
        deliver()
      } catch (error) {
        process.emitWarning(error instanceof Error ? error : new Error(String(error)), {
          type: 'TwinkeyListenerWarning',
          detail: `a listener of the twinkey event ${event.kind} threw`,
        })
      }
    }
  }

  /** Hands out the secret for a new attempt; throws NoUsableSecretError (send nothing). */
  begin() {
    return this.#native.begin()
  }

  /**
   * Throws EngineError (`DESTINATION_NOT_ALLOWED`) when a secret may not be sent to `url`: only
   * OCI Generative AI inference hosts (https), loopback and the `allowedHosts` option take one.
   * `engine.fetch` checks every request; call this before sending a secret yourself.
   */
  checkDestination(url) {
    this.#native.checkDestination(String(url))
  }

  /** The OpenAI-compatible base URL of the key's region (from its OCID), or null. */
  defaultBaseUrl() {
    return this.#native.defaultBaseUrl() ?? null
  }

  /**
   * Judges an attempt's response. `headers` may be a `Headers` object or a plain object; `body`
   * only when a previous call answered `need_body`.
   */
  complete(attempt, status, headers, body) {
    const plain = typeof headers?.get === 'function' ? relevantHeaders(headers) : headers
    const bytes = typeof body === 'string' ? Buffer.from(body) : body
    return this.#native.complete(attempt, status, plain ?? undefined, bytes ?? undefined)
  }

  /** Ends an attempt that got no response: nothing is learned about the secret. */
  abandon(attempt) {
    this.#native.abandon(attempt)
  }

  /**
   * What the key has used: `{ atMs, keyId, secrets, rows: [{ secret, fingerprint, model, endpoint,
   * status, requests, withoutUsage, inputTokens, outputTokens, totalTokens, durationSeconds }],
   * minutes: [{ minuteMs, tokens: [one, two] }], budget }` (budget `null` without one).
   */
  usage() {
    return this.#native.usage()
  }

  /**
   * Joins the fleet of this key through Redis (`{ url, caFile, prefix, origin, opTimeoutMs,
   * resyncIntervalMs, budgetSlice }`): rejections, recoveries and the budget are shared with the
   * other processes on the key. Returns a `Fleet` at once; `fleet.close()` leaves.
   */
  joinFleet(options) {
    return native.joinFleet(this.#native, options)
  }

  /** The engine's metrics as OpenMetrics / Prometheus text (names and fingerprints only). */
  metricsText() {
    return this.#native.metricsText()
  }

  /** Per-secret state, health and counters. */
  status() {
    return this.#native.status()
  }

  /** The name of the secret traffic currently goes to. */
  current() {
    return this.#native.current()
  }

  /** A copy of the key as the engine holds it now. */
  key() {
    return this.#native.key()
  }

  /** Replaces the whole key (e.g. re-read from the control plane). */
  replaceKey(key) {
    this.#native.replaceKey(key)
  }

  /**
   * Follows one observed key document (a JSON string or an ApiKey; `source`: `'file'`, whose
   * values are taken, or `'controlPlane'`, whose never are): `{ changes, prefer }`.
   */
  followKey(doc, source = 'file') {
    const key = typeof doc === 'string' ? native.ApiKey.fromJson(doc) : doc
    return this.#native.followKey(key, source)
  }

  /** Sets (or, with `null`, clears) the preferred secret. */
  setPreferred(secret) {
    this.#native.setPreferred(secret ?? null)
  }

  /** Activates a secret. */
  activate(secret) {
    this.#native.activate(secret)
  }

  /** Deactivates a secret. */
  deactivate(secret) {
    this.#native.deactivate(secret)
  }

  /** Revokes a secret (irreversible). */
  revoke(secret) {
    this.#native.revoke(secret)
  }

  /** Gives a secret a new value, usable until `until` (default: 90 days). */
  renew(secret, value, until) {
    this.#native.renew(secret, value, until ?? undefined)
  }

  /** Sets a secret's state as the service reports it. */
  syncState(secret, state) {
    this.#native.syncState(secret, state)
  }

  /** `{ current, secrets: [{ name, fingerprint, state, usable, ... }] }` (no values). */
  toJSON() {
    const status = this.#native.status()
    return {
      current: status.current,
      secrets: status.secrets.map(({ name, fingerprint, state, usable, health }) => ({
        name,
        fingerprint,
        state,
        usable,
        health,
      })),
    }
  }

  toString() {
    return `Engine for ${this.#native.key().toString()} (current ${this.#native.current()})`
  }

  [inspect.custom]() {
    return this.toString()
  }
}

module.exports = { Engine, nativeOf }
