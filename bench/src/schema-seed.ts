import { BenchClient } from './bench-client'
import { BENCH_ATTRIBUTES } from './contact-edits'
import { BENCH_WORKSPACE } from './ipc'
import type { BenchTokens } from './ipc'
import { within } from './stats'

const SEED_TIMEOUT_MS = 10_000

/**
 * Defines the benchmark's custom text attributes in the workspace schema, as an admin client
 * would, and waits until an agent client sees them: the server refuses custom values of
 * attributes that do not exist, so without this every edit would be undone.
 *
 * @example
 * await seedSchema(child.url, child.tokens)
 */
export async function seedSchema(url: string, tokens: BenchTokens): Promise<void> {
  const docName = `${BENCH_WORKSPACE}/schema`
  const connect = (token: string): Promise<BenchClient> =>
    BenchClient.connect({ url, docName, token, handshake: true, timeoutMs: SEED_TIMEOUT_MS })
  const admin = await connect(tokens.admin)
  const attributes = admin.doc.getMap('attributes')
  admin.doc.transact(() => {
    BENCH_ATTRIBUTES.forEach((id, index) => {
      const props: Record<string, unknown> = {
        label: `Bench ${index}`,
        kind: 'custom',
        type: 'text',
        alias: id,
        channels: [],
        visible: true,
        crmManaged: false,
        lookup: false,
        retired: false,
        maxLength: 64,
        order: `a${index}`,
      }
      for (const [prop, value] of Object.entries(props)) attributes.set(`${id}:${prop}`, value)
    })
  })
  const agent = await connect(tokens.agent)
  try {
    const seeded = (): boolean =>
      BENCH_ATTRIBUTES.every((id) => agent.doc.getMap('attributes').get(`${id}:type`) === 'text')
    await within(
      new Promise<void>((resolve) => {
        if (seeded()) resolve()
        agent.onRemoteChange = () => {
          if (seeded()) resolve()
        }
      }),
      SEED_TIMEOUT_MS,
      'the seeded schema never reached an agent client',
    )
  } finally {
    await Promise.all([admin.close(), agent.close()])
  }
}
