// twinkey for Node.js, ESM entry: the same objects as the CommonJS entry (no dual copies).
import twinkey from './index.js'

export const {
  ApiKey,
  Attempt,
  Engine,
  ManualClock,
  Signer,
  StreamMonitor,
  Budget,
  BudgetCharge,
  usageFromBody,
  requestFacts,
  parseRateLimitHeaders,
  ControlPlane,
  TokenKeyRing,
  RelayGate,
  Admission,
  signedFetch,
  RELEVANT_HEADERS,
  RELAY_ERROR_HEADER,
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
  BudgetExceededError,
  findTwinkeyError,
} = twinkey

export default twinkey
