import { floodAttribute, readSequence, writeSequence } from './contact-edits'
import type { LatencyClient } from './latency'
import { within } from './stats'

/** What the flood needs of a client: its document, change calls, and a close code for errors. */
export interface ThroughputClient extends LatencyClient {
  readonly closeCode: number | null
}

export interface ThroughputOptions {
  /** Clients that write (the first `writers` clients), each its own attribute. */
  readonly writers: number
  readonly updatesPerWriter: number
  /**
   * Updates a writer may have in flight (sent but not yet seen by the probe client). A window
   * instead of an unbounded loop keeps writers inside a server's per-connection rate limits and
   * measures what the relay sustains, not how deep its queues are.
   */
  readonly window: number
  readonly timeoutMs: number
}

export interface ThroughputResult {
  /** Updates the writers made. */
  readonly updates: number
  /** Update deliveries: each update counted once per client other than its writer. */
  readonly deliveries: number
  readonly seconds: number
}

/**
 * Relayed updates per second: the writers flood the shared contact with `updatesPerWriter`
 * changes each, and the phase ends when every other client shows every writer's last change.
 * A client that shows change k of a writer holds changes 1..k (one Yjs document), so batched or
 * merged broadcasts count the updates they carry.
 */
export async function measureThroughput(
  clients: readonly ThroughputClient[],
  options: ThroughputOptions,
): Promise<ThroughputResult> {
  const writerCount = Math.min(options.writers, clients.length - 1)
  const writers = clients.slice(0, writerCount)
  const attributes = writers.map((_, writer) => floodAttribute(writer))
  const start = writers.map((client, writer) => readSequence(client, attributes[writer] ?? ''))
  const target = start.map((sequence) => sequence + options.updatesPerWriter)
  const probe = clients[clients.length - 1]
  if (probe === undefined || writerCount === 0) throw new Error('throughput needs 2+ clients')

  // seen[client][writer]: the last change of that writer the client shows.
  const seen = clients.map((client) =>
    attributes.map((attribute) => readSequence(client, attribute)),
  )
  let unfinished = 0
  clients.forEach((_, index) => {
    attributes.forEach((_attribute, writer) => {
      if (writer !== index) unfinished++
    })
  })
  let finish: () => void = () => undefined
  const finished = new Promise<void>((resolve) => {
    finish = resolve
  })
  const probeMoved: (() => void)[] = writers.map(() => () => undefined)
  let finishedAt = 0
  let aborted = false

  clients.forEach((client, index) => {
    const mine = seen[index] ?? []
    client.onRemoteChange = () => {
      attributes.forEach((attribute, writer) => {
        if (writer === index) return
        const before = mine[writer] ?? -1
        const last = target[writer] ?? 0
        if (before >= last) return
        const now = readSequence(client, attribute)
        if (now <= before) return
        mine[writer] = now
        if (client === probe) probeMoved[writer]?.()
        if (now >= last && --unfinished === 0) {
          finishedAt = performance.now()
          finish()
        }
      })
    }
  })

  const write = async (writer: number): Promise<void> => {
    const client = writers[writer]
    const attribute = attributes[writer]
    const probeSeen = seen[clients.length - 1]
    if (client === undefined || attribute === undefined || probeSeen === undefined) return
    let sent = start[writer] ?? 0
    const last = target[writer] ?? 0
    while (sent < last && !aborted) {
      while (sent < last && sent - (probeSeen[writer] ?? 0) < options.window) {
        sent++
        writeSequence(client, attribute, sent)
      }
      if (sent >= last) break
      await new Promise<void>((resolve) => {
        probeMoved[writer] = resolve
      })
    }
  }

  const startedAt = performance.now()
  try {
    await within(
      Promise.all([finished, ...writers.map((_, writer) => write(writer))]),
      options.timeoutMs,
      `flood did not reach every client (${unfinished} writer/client pairs behind, ` +
        `${clients.filter((client) => client.closeCode !== null).length} sockets closed)`,
    )
  } finally {
    aborted = true
    for (const client of clients) client.onRemoteChange = null
    // A writer still parked on the probe must not keep the phase alive after a timeout.
    for (const moved of probeMoved) moved()
  }
  const updates = writerCount * options.updatesPerWriter
  return {
    updates,
    deliveries: updates * (clients.length - 1),
    seconds: (finishedAt - startedAt) / 1000,
  }
}
