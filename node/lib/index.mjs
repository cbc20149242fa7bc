// twinkey for Node.js, ESM entry: the same objects as the CommonJS entry (no dual copies).
import twinkey from './index.js'

export const {
  ApiKey,
  Attempt,
  Engine,
  ManualClock,
  Signer,
  StreamMonitor,
  signedFetch,
  RELEVANT_HEADERS,
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
  findTwinkeyError,
} = twinkey

export default twinkey
