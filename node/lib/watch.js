'use strict'

// Key watch: `watch(engine, { file } | { controlPlane })` makes an engine follow its key (the
// Rust core's KeyWatch on napi's tokio runtime). What a document means is the core's decision;
// this module only passes the engine and the control plane's native halves through.

const native = require('./native.js')
const { nativeOf } = require('./engine.js')
const { nativeControlOf } = require('./control.js')

/**
 * Makes `engine` follow its key: `file` (a key file it reloads: values, states, a rotation's
 * preference) or `controlPlane` (a ControlPlane: GetApiKey, states, expiries, preference), with
 * `intervalMs`, `jitter`, `maxBackoffMs`. Returns a KeyWatch at once; `watch.stop()` ends it.
 */
function watch(engine, options = {}) {
  const { controlPlane, ...rest } = options
  return native.watchKey(nativeOf(engine), rest, controlPlane == null ? undefined : nativeControlOf(controlPlane))
}

module.exports = { watch, KeyWatch: native.NativeKeyWatch }
