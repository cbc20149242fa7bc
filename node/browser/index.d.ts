// Types of the browser entry of `twinkey` (conditional export `browser`, or `twinkey/browser`).
// The browser API takes server tokens only: there is no way to hand it an OCI secret.

/** What a token provider may return: the compact token, or an object holding it. */
export type ServerToken = string | { token: string };

export interface TokenClientOptions {
  /** The relay's URL (`twinkey relay`), e.g. `https://relay.example`. */
  relayUrl: string;
  /** Asks your app's server for a server token; called once for all concurrent requests. */
  getToken: () => ServerToken | Promise<ServerToken>;
  /** Refresh this long before a token's end (default 30 000 ms, at most half its lifetime). */
  refreshMarginMs?: number;
  /** The underlying fetch (default: `globalThis.fetch`). */
  fetch?: typeof globalThis.fetch;
}

/**
 * Calls the relay with a cached server token. Use it with the openai SDK:
 * `new OpenAI({ dangerouslyAllowBrowser: true, apiKey: 'unused', baseURL: client.baseURL, fetch: client.fetch })`.
 */
export declare class TokenClient {
  constructor(options: TokenClientOptions);
  /** `<relayUrl>/v1`. */
  readonly baseURL: string;
  /** A fetch that adds the token (bound; pass it as is). Only calls the relay. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** Forgets the cached token. */
  clear(): void;
}

/** Stable codes of the errors the browser entry throws. */
export type TwinkeyBrowserErrorCode =
  | 'TOKEN_PROVIDER'
  | 'INVALID_OPTIONS'
  | 'INVALID_REQUEST'
  | (string & {});

/** An error thrown by twinkey: `name` is `TwinkeyError`, `code` is stable. */
export interface TwinkeyError extends Error {
  name: 'TwinkeyError';
  code: TwinkeyBrowserErrorCode;
  family: string;
}

/** Whether `e` is a {@link TwinkeyError}. */
export declare function isTwinkeyError(e: unknown): e is TwinkeyError;

/** Loads the wasm module (done on first use; call it to load early). */
export declare function init(): Promise<unknown>;
