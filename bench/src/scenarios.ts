/**
 * Workloads of `npm run bench` beyond one document: many documents with a few clients each,
 * and a reconnect storm. Each runs against every server in a fresh child process.
 */
import { contactNumber, sharedContact } from './contact-edits'
import { measureLatency } from './latency'
import { closeAll, connectMany, connectPhaseClient } from './phase-client'
import type { PhaseClient } from './phase-client'
import type { ServerChild } from './server-child'

const CONNECT_TIMEOUT_MS = 30_000
const CONNECT_CONCURRENCY = 50

export interface ManyDocumentsResult {
  /** ms from an edit to the last other client of its document showing it, every edit. */
  readonly untilAll: number[]
  /** ms from an edit to each other client showing it. */
  readonly perDelivery: number[]
}

/**
 * `documents` contact documents with `perDocument` clients each; in every document the first
 * client edits `edits` times, one edit at a time with `gapMs` between, all documents at once.
 *
 * @example
 * const result = await manyDocuments(child, 200, 5, 20, 100)
 */
export async function manyDocuments(
  child: ServerChild,
  documents: number,
  perDocument: number,
  edits: number,
  gapMs: number,
): Promise<ManyDocumentsResult> {
  const clients = await connectMany(documents * perDocument, CONNECT_CONCURRENCY, (index) =>
    connectPhaseClient(child, contactNumber(Math.floor(index / perDocument)), CONNECT_TIMEOUT_MS),
  )
  try {
    const groups = Array.from({ length: documents }, (_, doc) =>
      clients.slice(doc * perDocument, (doc + 1) * perDocument),
    )
    // Writers start spread over one gap, so the documents' edits interleave instead of landing
    // in the same turn.
    const results = await Promise.all(
      groups.map(async (group, doc) => {
        await new Promise((resolve) => setTimeout(resolve, (gapMs * doc) / documents))
        return measureLatency(group, {
          samples: edits,
          warmup: 2,
          gapMs,
          editTimeoutMs: 20_000,
          deadline: performance.now() + 60_000,
        })
      }),
    )
    return {
      untilAll: results.flatMap((result) => result.untilAll),
      perDelivery: results.flatMap((result) => result.perDelivery),
    }
  } finally {
    await closeAll(clients)
  }
}

export interface StormResult {
  /** ms from the storm's start to each client synced again. */
  readonly perClient: number[]
  /** ms until the last client synced. */
  readonly total: number
}

/**
 * `count` clients on one contact: all drop at once and open a new socket at once (as after a
 * balancer restart), and each is timed until synced again.
 *
 * @example
 * const storm = await reconnectStorm(child, 500)
 */
export async function reconnectStorm(child: ServerChild, count: number): Promise<StormResult> {
  let clients: PhaseClient[] = await connectMany(count, CONNECT_CONCURRENCY, () =>
    connectPhaseClient(child, sharedContact, CONNECT_TIMEOUT_MS),
  )
  try {
    await closeAll(clients)
    clients = []
    const startedAt = performance.now()
    const perClient: number[] = []
    clients = await Promise.all(
      Array.from({ length: count }, async () => {
        const client = await connectPhaseClient(child, sharedContact, 60_000)
        perClient.push(performance.now() - startedAt)
        return client
      }),
    )
    return { perClient, total: performance.now() - startedAt }
  } finally {
    await closeAll(clients)
  }
}
