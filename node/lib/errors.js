'use strict'
// The error classes of twinkey. The addon builds every error through `makeError` (registered
// in ./native.js), so anything twinkey throws is an instance of one of these, with the core's
// stable `.code`. Which class: the core's error family; `NO_USABLE_SECRET` has its own.

/** Base class of every twinkey error; `code` is stable (`NO_USABLE_SECRET`, ...). */
class TwinkeyError extends Error {
  constructor(message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = options.code ?? 'TWINKEY_ERROR'
    this.family = options.family ?? 'unknown'
    // A relay gate's refusal: the HTTP status and body to answer with.
    if (options.status !== undefined) this.status = options.status
    if (options.reply !== undefined) this.reply = options.reply
  }
}

/** The key document is malformed or violates the model; or engine options are invalid. */
class KeyDocumentError extends TwinkeyError {}

/** A secret value, name, reference or transition was refused. */
class SecretError extends TwinkeyError {}

/** The engine refused an operation (e.g. an attempt completed twice). */
class EngineError extends TwinkeyError {}

/** Neither secret can be used; no request was sent. `reasons` names each secret and why. */
class NoUsableSecretError extends EngineError {
  constructor(message, options = {}) {
    super(message, options)
    this.reasons = options.reasons ?? []
  }
}

/** A streamed response was cut after its first byte (no fail-over is possible then). */
class StreamInterruptedError extends TwinkeyError {
  constructor(message, options = {}) {
    super(message, options)
    this.received = options.received ?? 0
  }
}

/** OCI config, private key, pass phrase or the signature itself. */
class SigningError extends TwinkeyError {}

/** A request that cannot be built or sent as given. */
class InvalidRequestError extends TwinkeyError {}

/** The connection failed; nothing is known about the secret. */
class TransportError extends TwinkeyError {}

/** The service answered with an OCI error body. */
class ServiceError extends TwinkeyError {
  constructor(message, options = {}) {
    super(message, options)
    this.status = options.status
    this.ociCode = options.ociCode
    this.requestId = options.requestId
  }
}

/** A server token or its signing key was refused (codes `INVALID_TOKEN`, `TOKEN_EXPIRED`, ...). */
class TokenError extends TwinkeyError {}

/**
 * A key rotation was refused (`ROTATION_REFUSED`: carrying it out would leave no usable secret,
 * or a value or file it needs is missing; nothing unsafe was done) or its state file is unusable
 * (`ROTATION_STATE`).
 */
class RotationError extends TwinkeyError {}

/**
 * The tokens-per-minute budget cannot admit the request (`TPM_BUDGET_EXCEEDED`); nothing was
 * sent. `scope` is what is full (`key`, `model:<name>`, `rate_limited`), `retryAfterMs` when it
 * would be admitted, `requested` the estimate it was refused on.
 */
class BudgetExceededError extends TwinkeyError {
  constructor(message, options = {}) {
    super(message, options)
    this.scope = options.scope
    this.retryAfterMs = options.retryAfterMs
    this.requested = options.requested
  }
}

const BY_FAMILY = {
  key: KeyDocumentError,
  secret: SecretError,
  engine: EngineError,
  stream: StreamInterruptedError,
  signing: SigningError,
  request: InvalidRequestError,
  transport: TransportError,
  service: ServiceError,
  tokens: TokenError,
  rotation: RotationError,
  budget: BudgetExceededError,
}
const BY_CODE = { NO_USABLE_SECRET: NoUsableSecretError }

/** Builds the error for a core error (called by the addon). */
function makeError(code, family, message, details) {
  const Class = BY_CODE[code] ?? BY_FAMILY[family] ?? TwinkeyError
  const error = new Class(message, { ...details, code, family })
  Error.captureStackTrace?.(error, makeError)
  return error
}

/**
 * The twinkey error behind `error`: itself, or the first in its `cause` chain (the openai SDK
 * wraps an error thrown by `fetch` in `APIConnectionError` with it as `cause`).
 */
function findTwinkeyError(error) {
  for (let e = error, depth = 0; e != null && depth < 16; e = e.cause, depth++) {
    if (e instanceof TwinkeyError) return e
  }
  return undefined
}

module.exports = {
  BudgetExceededError,
  TwinkeyError,
  KeyDocumentError,
  SecretError,
  EngineError,
  NoUsableSecretError,
  StreamInterruptedError,
  SigningError,
  InvalidRequestError,
  TransportError,
  ServiceError,
  TokenError,
  RotationError,
  makeError,
  findTwinkeyError,
}
