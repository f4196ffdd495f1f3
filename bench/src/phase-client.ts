import { BenchClient } from './bench-client'
import { HocuspocusClient } from './hocuspocus-client'
import type { ServerChild } from './server-child'
import type { ThroughputClient } from './throughput'

/** A client of any server the benchmark runs, as every phase needs it. */
export interface PhaseClient extends ThroughputClient {
  close(): Promise<void>
}

/**
 * Connects one client to `docName` on `child`, the way that server's users connect: Cardfile and
 * the bare relay with the y-websocket protocol (Cardfile with a token and its handshake),
 * Hocuspocus with its own provider. Resolves once synced.
 *
 * @example
 * const client = await connectPhaseClient(child, sharedContact, 20_000)
 */
export function connectPhaseClient(
  child: Pick<ServerChild, 'kind' | 'url' | 'tokens'>,
  docName: string,
  timeoutMs: number,
): Promise<PhaseClient> {
  if (child.kind === 'hocuspocus') {
    const token = child.tokens?.agent
    if (token === undefined) throw new Error('the Hocuspocus child minted no token')
    return HocuspocusClient.connect(child.url, docName, token, timeoutMs)
  }
  return BenchClient.connect({
    url: child.url,
    docName,
    token: child.tokens?.agent,
    handshake: child.kind === 'cardfile',
    timeoutMs,
  })
}

/**
 * Connects `count` clients, at most `concurrency` handshakes at a time so a thousand clients do
 * not all land in one event-loop turn (which measures the accept queue, not the server).
 */
export async function connectMany(
  count: number,
  concurrency: number,
  connect: (index: number) => Promise<PhaseClient>,
): Promise<PhaseClient[]> {
  const clients: PhaseClient[] = []
  for (let start = 0; start < count; start += concurrency) {
    const batch: Promise<PhaseClient>[] = []
    for (let index = start; index < Math.min(count, start + concurrency); index++) {
      batch.push(connect(index))
    }
    clients.push(...(await Promise.all(batch)))
  }
  return clients
}

/** Closes every client, in parallel. */
export async function closeAll(clients: readonly PhaseClient[]): Promise<void> {
  await Promise.all(clients.map((client) => client.close()))
}
