'use strict'
// `fetch`-compatible functions. They do the I/O and follow the core's verdicts; they decide
// nothing themselves.
//
// - engineFetch: sets `authorization` from the engine's attempt, sends, reports the response
//   to the engine and does what its verdict says (accept / replay once / fail).
// - signedFetch: OCI-signs each request with a Signer (IAM-authenticated calls).
// Request bodies are made replayable once (streams are read into memory); response bodies
// pass through, streamed ones through the core's end-of-stream monitor. engineFetch admits each
// request first (the engine's budget may say wait: it sleeps, or refuse: it throws), meters
// every accepted body on its way to the caller and settles the request when the body ends.

const native = require('./native.js')

const RELEVANT_HEADERS = native.relevantHeaders()

/** The response headers the engine reads, as a plain object. */
function relevantHeaders(headers) {
  const out = {}
  for (const name of RELEVANT_HEADERS) {
    const value = headers.get(name)
    if (value !== null) out[name] = value
  }
  return out
}

/** Whether a body can be sent more than once as it is (no stream to consume). */
function isReplayable(body) {
  return (
    body == null ||
    typeof body === 'string' ||
    ArrayBuffer.isView(body) ||
    body instanceof ArrayBuffer ||
    body instanceof Blob ||
    body instanceof FormData ||
    body instanceof URLSearchParams
  )
}

/** Reads a body that can be consumed only once (a stream, an async iterable) into memory. */
async function buffered(body) {
  if (body instanceof ReadableStream) {
    return new Uint8Array(await new Response(body).arrayBuffer())
  }
  if (typeof body?.[Symbol.asyncIterator] === 'function') {
    const chunks = []
    for await (const chunk of body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
    return new Uint8Array(Buffer.concat(chunks))
  }
  return body
}

/**
 * `(input, init)` as `fetch` takes them, turned into a URL, a private `Headers` object and an
 * init whose body can be sent more than once. Synchronous for a URL with a replayable body
 * (what the openai SDK sends); a Promise when a Request or a stream must be read first.
 */
function replayableRequest(input, init) {
  if ((typeof input === 'string' || input instanceof URL) && isReplayable(init?.body)) {
    const options = { ...init }
    const headers = new Headers(options.headers)
    options.headers = headers
    return { url: String(input), headers, init: options }
  }
  return readRequest(input, init)
}

async function readRequest(input, init) {
  const source = typeof input === 'object' && input !== null && !(input instanceof URL) && 'url' in input ? input : undefined
  const options = { ...(init ?? {}) }
  const url = source ? source.url : String(input)
  const headers = new Headers(options.headers ?? source?.headers)
  let body = options.body
  if (body === undefined && source?.body != null) body = await source.arrayBuffer()
  if (source) {
    options.method ??= source.method
    options.signal ??= source.signal
    options.redirect ??= source.redirect
  }
  options.headers = headers
  options.body = isReplayable(body) ? (body ?? undefined) : await buffered(body)
  return { url, headers, init: options }
}

/**
 * Credentials go only to the URL the caller named: redirects are never followed (a 3xx comes
 * back as it is; `redirect: 'error'` is kept), like the Rust client.
 */
function withoutRedirects(request) {
  request.init.redirect = request.init.redirect === 'error' ? 'error' : 'manual'
  return request
}

/** Frees a response that will not be handed on. */
async function discard(response) {
  try {
    await response.body?.cancel()
  } catch {
    // the connection is gone already
  }
}

/**
 * The response, with a streamed (SSE) body passed through `monitor` (a StreamMonitor, or
 * `null` for a response that is not an event stream, returned untouched): a body that ends
 * (or breaks) before its end marker errors with StreamInterruptedError instead of ending
 * cleanly.
 */
function monitored(response, monitor) {
  if (monitor === null || response.body === null) return response
  return passThrough(response, {
    feed: (chunk) => monitor.feed(chunk),
    finish: () => monitor.finish(),
    transportError: (reason) => {
      monitor.transportError(reason)
      return true
    },
    cancel() {},
  })
}

/**
 * The response with its body passed through `watch`: `feed(chunk)` per chunk, `finish()` at
 * the end (throws to error the body), `transportError(reason)` when reading fails (throws to
 * error the body with its error; `true`: end the body cleanly; `false`: error it with the
 * failure itself), `cancel()` when the caller cancels.
 */
function passThrough(response, watch, settleOnCollect) {
  const reader = response.body.getReader()
  const body = new ReadableStream(
    {
      async pull(controller) {
        let chunk
        try {
          chunk = await reader.read()
        } catch (cause) {
          // The caller's own abort is not a cut: the SDK expects its AbortError back.
          if (cause?.name === 'AbortError') {
            watch.cancel()
            controller.error(cause)
            return
          }
          let ended
          try {
            ended = watch.transportError(String(cause?.message ?? cause))
          } catch (error) {
            error.cause = cause
            controller.error(error)
            return
          }
          if (ended) controller.close()
          else controller.error(cause)
          return
        }
        if (chunk.done) {
          try {
            watch.finish()
          } catch (error) {
            controller.error(error)
            return
          }
          controller.close()
          return
        }
        watch.feed(chunk.value)
        controller.enqueue(chunk.value)
      },
      cancel(reason) {
        watch.cancel()
        return reader.cancel(reason)
      },
    },
    { highWaterMark: 0 },
  )
  const passed = new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  })
  Object.defineProperty(passed, 'url', { value: response.url })
  if (settleOnCollect !== undefined) unread.register(passed, settleOnCollect)
  return passed
}

/** The bytes of a request body for the core's estimate (none for a Blob, a form, ...). */
function bodyBytes(body) {
  if (typeof body === 'string') return Buffer.from(body)
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
  if (body instanceof ArrayBuffer) return new Uint8Array(body)
  return undefined
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Admits request `id` with the engine (sleeping while its budget says wait). */
async function admit(engine, id, request) {
  const body = bodyBytes(request.init.body)
  let advice = engine.sendAdmit(id, request.url, body, null)
  while (advice !== null) {
    await sleep(advice.waitMs)
    advice = engine.sendAdmit(id, request.url, body, advice.askedMs)
  }
}

/**
 * The accepted response of request `id`, its body metered on the way to the caller (fed to
 * `monitor` for an event stream, else to the engine) and the request settled when the body
 * ends, fails or is cancelled. A streamed body that ends (or breaks) before its end marker
 * errors with StreamInterruptedError instead of ending cleanly.
 */
function metered(response, engine, id, monitor) {
  if (response.body === null) {
    engine.sendSettle(id, monitor)
    return response
  }
  const feed = monitor !== null ? (chunk) => monitor.feed(chunk) : (chunk) => engine.sendFeed(id, chunk)
  return passThrough(response, {
    feed,
    finish() {
      engine.sendSettle(id, monitor)
      monitor?.finish()
    },
    transportError(reason) {
      engine.sendSettle(id, monitor)
      if (monitor === null) return false
      monitor.transportError(reason)
      return true
    },
    cancel() {
      engine.sendSettle(id, monitor)
    },
  }, { engine, id })
}

// A response dropped unread still settles its request (keeping its estimate), when collected.
const unread = new FinalizationRegistry(({ engine, id }) => engine.sendSettle(id, null))

/** Ends an attempt that got no verdict; the error that caused it is the one to report. */
function abandonQuietly(engine, id) {
  try {
    engine.sendAbandon(id)
  } catch {
    // already completed: the engine has what it needs
  }
}

/**
 * A `fetch` that sends each request with the secret the engine hands out and follows the
 * engine's verdicts. `engine` is the NativeEngine (its `send*` methods keep the attempts, under
 * numbers this function hands out); `baseFetch()` returns the fetch to send with (looked up per
 * request).
 */
function engineFetch(engine, baseFetch) {
  let nextId = 0
  return async function twinkeyFetch(input, init) {
    let request = replayableRequest(input, init)
    if (request instanceof Promise) request = await request
    withoutRedirects(request)
    const id = nextId
    nextId = (nextId + 1) >>> 0
    await admit(engine, id, request)
    let authorization
    try {
      authorization = engine.sendBegin(id, request.url)
    } catch (error) {
      engine.sendSettle(id, null) // nothing sent: the estimate goes back
      throw error
    }
    for (;;) {
      request.headers.set('authorization', authorization)
      let response
      let verdict
      try {
        response = await baseFetch()(request.url, request.init)
        const values = RELEVANT_HEADERS.map((name) => response.headers.get(name))
        const type = response.headers.get('content-type')
        verdict = engine.sendComplete(id, request.url, response.status, values, type)
        if (verdict?.kind === 'need_body') {
          const body = new Uint8Array(await response.clone().arrayBuffer())
          verdict = engine.sendComplete(id, request.url, response.status, values, type, body)
        }
      } catch (error) {
        // No verdict (network error, abort, unreadable body): nothing learned about the secret.
        abandonQuietly(engine, id)
        throw error
      }
      // null: hand the response over (metered); a string: an event stream of that kind.
      if (verdict == null) return metered(response, engine, id, null)
      if (typeof verdict === 'string') return metered(response, engine, id, new native.StreamMonitor(verdict))
      await discard(response)
      if (verdict.kind !== 'replay') throw verdict.error
      authorization = verdict.authorization
    }
  }
}

/**
 * A `fetch` that OCI-signs every request with `signer` ("Signature version 1"): the body is
 * read once so its hash and length can be signed, then sent as signed.
 */
function signedFetch(signer, options = {}) {
  const base = () => options.fetch ?? globalThis.fetch
  return async function ociSignedFetch(input, init) {
    let request = replayableRequest(input, init)
    if (request instanceof Promise) request = await request
    withoutRedirects(request)
    const method = (request.init.method ?? 'GET').toUpperCase()
    let body = request.init.body
    if (body !== undefined && typeof body !== 'string' && !ArrayBuffer.isView(body)) {
      const encoded = new Response(body)
      const type = encoded.headers.get('content-type')
      if (type !== null && !request.headers.has('content-type')) request.headers.set('content-type', type)
      body = new Uint8Array(await encoded.arrayBuffer())
    }
    const signed = signer.sign(
      { method, url: request.url, headers: Object.fromEntries(request.headers), body },
      { dateHeader: options.dateHeader },
    )
    for (const [name, value] of Object.entries(signed.headers)) request.headers.set(name, value)
    const response = await base()(signed.url, { ...request.init, method, body })
    return monitored(response, native.StreamMonitor.forResponse(signed.url, response.headers.get('content-type')))
  }
}

module.exports = { engineFetch, signedFetch, relevantHeaders, monitored, RELEVANT_HEADERS }
