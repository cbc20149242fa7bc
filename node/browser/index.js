// twinkey for the browser: a `fetch` for the openai SDK that calls your relay with short-lived
// server tokens from your own server. No secret and no key ever reaches the page.
//
//   import OpenAI from 'openai';
//   import { TokenClient } from 'twinkey';
//   const relay = new TokenClient({
//     relayUrl: 'https://relay.example',
//     getToken: async () => (await fetch('/api/twinkey-token')).text(),
//   });
//   const client = new OpenAI({ dangerouslyAllowBrowser: true, apiKey: 'unused',
//                               baseURL: relay.baseURL, fetch: relay.fetch });
//
// Every decision (use the cached token, fetch one, wait for the fetch in flight, replay once
// with a fresh token) is made by the Rust core compiled to wasm (`TokenCache`); this file only
// does the I/O.
import initWasm, { TokenCache, errorHeader, isRelayUrl, relayBaseUrl } from '../pkg-web/twinkey_wasm.js';
import wasmBase64 from '../pkg-web/twinkey_wasm_inline.js';

let ready;

/** Loads the wasm module once (it is inlined, so any bundler works without asset rules). */
export function init() {
  ready ??= initWasm({
    module_or_path: Uint8Array.from(atob(wasmBase64), (c) => c.charCodeAt(0)),
  });
  return ready;
}

function twinkeyError(code, message, cause) {
  const err = new Error(message, cause === undefined ? undefined : { cause });
  err.name = 'TwinkeyError';
  err.code = code;
  err.family = 'tokens';
  return err;
}

/** Whether `e` is an error thrown by twinkey (it has a stable `code`). */
export function isTwinkeyError(e) {
  return e instanceof Error && e.name === 'TwinkeyError' && typeof e.code === 'string';
}

/** A request the client can send twice (the body is buffered once when it is a stream). */
async function snapshot(input, init) {
  const base = typeof Request !== 'undefined' && input instanceof Request ? input : null;
  const url = base ? base.url : String(input);
  const headers = new Headers(base ? base.headers : undefined);
  new Headers(init?.headers).forEach((v, k) => headers.set(k, v));
  let body = init?.body ?? (base && base.body ? await base.arrayBuffer() : undefined);
  if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) {
    body = await new Response(body).arrayBuffer();
  }
  const { headers: _h, body: _b, ...rest } = init ?? {};
  const method = init?.method ?? base?.method ?? 'GET';
  return { url, headers, body, init: { ...rest, method, signal: init?.signal ?? base?.signal } };
}

export class TokenClient {
  #relayUrl;
  #getToken;
  #fetch;
  #margin;
  #cache = null;
  #pending = null;

  /**
   * @param {{relayUrl: string, getToken: () => (string | {token: string} | Promise<string | {token: string}>),
   *          refreshMarginMs?: number, fetch?: typeof fetch}} options
   */
  constructor({ relayUrl, getToken, refreshMarginMs, fetch: baseFetch } = {}) {
    if (typeof relayUrl !== 'string' || typeof getToken !== 'function') {
      throw twinkeyError('INVALID_OPTIONS', 'TokenClient needs { relayUrl: string, getToken: () => Promise<string> }');
    }
    this.#relayUrl = relayUrl;
    this.#getToken = getToken;
    this.#margin = refreshMarginMs;
    this.#fetch = baseFetch ?? globalThis.fetch.bind(globalThis);
    this.fetch = this.fetch.bind(this);
  }

  /** The OpenAI base URL of the relay (`<relayUrl>/v1`). */
  get baseURL() {
    return `${this.#relayUrl.replace(/\/+$/, '')}/v1`;
  }

  async #ready() {
    await init();
    this.#cache ??= new TokenCache(this.#margin);
    return this.#cache;
  }

  async #provide(cache, ticket) {
    let value;
    try {
      value = await this.#getToken();
    } catch (e) {
      cache.fetchFailed(ticket);
      throw twinkeyError('TOKEN_PROVIDER', 'the token provider failed', e);
    }
    cache.store(ticket, String(typeof value === 'object' && value !== null ? value.token : value), Date.now());
  }

  async #token(cache) {
    for (;;) {
      const step = cache.next(Date.now());
      if (step.step === 'use') return step;
      if (step.step === 'fetch') this.#pending = this.#provide(cache, step.ticket);
      await this.#pending;
    }
  }

  /** A `fetch` for the openai SDK: adds the server token, replays once when the core says so. */
  async fetch(input, init) {
    const cache = await this.#ready();
    const req = await snapshot(input, init);
    if (!isRelayUrl(this.#relayUrl, req.url)) {
      throw twinkeyError('INVALID_REQUEST', `TokenClient only calls its relay (${relayBaseUrl(this.#relayUrl)})`);
    }
    let replayed = false;
    for (;;) {
      const { token, generation } = await this.#token(cache);
      const headers = new Headers(req.headers);
      headers.set('authorization', `Bearer ${token}`);
      const response = await this.#fetch(req.url, { ...req.init, headers, body: req.body });
      const verdict = cache.judge(generation, replayed, response.status, response.headers.get(errorHeader()) ?? undefined);
      if (verdict === 'deliver') return response;
      await response.body?.cancel();
      replayed = true;
    }
  }

  /** Forgets the cached token (e.g. on sign-out). */
  clear() {
    this.#cache?.clear();
  }
}
