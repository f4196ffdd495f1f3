import type * as Y from 'yjs'
import { BENCH_WORKSPACE } from './ipc'

/** The user id in the agent token every benchmark client carries. */
export const BENCH_AGENT_ID = 'bench-agent'
/** The user id in the admin token that seeds the schema. */
export const BENCH_ADMIN_ID = 'bench-admin'

/** Custom text attribute the latency writer sets. */
export const LATENCY_ATTRIBUTE = 'benchLatency'
/** Most writers the throughput phase uses; each sets its own attribute. */
export const MAX_FLOOD_WRITERS = 4
/** Custom text attribute flood writer `writer` sets. */
export const floodAttribute = (writer: number): string => `benchFlood${writer}`

/** Every attribute the benchmark writes; they must exist in the workspace schema. */
export const BENCH_ATTRIBUTES: readonly string[] = [
  LATENCY_ATTRIBUTE,
  ...Array.from({ length: MAX_FLOOD_WRITERS }, (_, writer) => floodAttribute(writer)),
]

/** The contact document every client of one run shares. */
export const sharedContact = `${BENCH_WORKSPACE}/contact/shared`
/** The contact document of the memory-per-document phase's client `index`. */
export const contactNumber = (index: number): string => `${BENCH_WORKSPACE}/contact/doc${index}`

/**
 * Sets a custom value the way the SDK does: one key of the contact's `custom` map holding a
 * FieldValue with its provenance. The value is the sequence number, so observers can tell which
 * edit they see.
 */
export function writeSequence(
  client: { readonly doc: Y.Doc },
  attribute: string,
  sequence: number,
): void {
  client.doc.getMap('custom').set(attribute, {
    value: String(sequence),
    by: { role: 'agent', userId: BENCH_AGENT_ID, at: Date.now() },
  })
}

/** The sequence number a client currently sees for `attribute`; -1 when unset. */
export function readSequence(client: { readonly doc: Y.Doc }, attribute: string): number {
  const stored: unknown = client.doc.getMap('custom').get(attribute)
  if (typeof stored !== 'object' || stored === null || !('value' in stored)) return -1
  const sequence = Number(stored.value)
  return Number.isInteger(sequence) ? sequence : -1
}
