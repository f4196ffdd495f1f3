/**
 * The inbox workload of `npm run bench`: each agent holds what an agent's screen holds open,
 * the workspace schema, a conversation and three contacts (neighbouring agents share contacts,
 * so an edit reaches several screens), measured against every server in a fresh child process:
 * time to open an agent's documents, server memory per agent, and edit-to-visible on a shared
 * contact. The bare relay opens a socket per document (the y-websocket protocol), Cardfile
 * either a socket per document (what stock y-websocket clients do) or, `multiplexed`, one socket
 * for all of them (what the Cardfile client does); Hocuspocus multiplexes an agent's documents
 * over one socket with its provider.
 */
import { contactNumber } from './contact-edits'
import { BENCH_WORKSPACE } from './ipc'
import { HocuspocusSharedSocket } from './hocuspocus-client'
import { BenchMuxSocket } from './mux-client'
import { measureLatency } from './latency'
import type { LatencyClient, LatencyResult } from './latency'
import { closeAll, connectPhaseClient } from './phase-client'
import type { PhaseClient } from './phase-client'
import type { ServerChild } from './server-child'
import { pause } from './stats'

const CONNECT_TIMEOUT_MS = 30_000
/** Agents opening at once. */
const OPEN_CONCURRENCY = 20
/** Contacts an agent holds open. */
const CONTACTS_PER_AGENT = 3

export interface InboxResult {
  /** ms from an agent starting to open its documents to all of them synced, per agent. */
  readonly openMs: number[]
  /** Server heap (JS heap + external) the agents added, per agent, bytes. */
  readonly heapPerAgent: number
  /** Sockets one agent holds. */
  readonly socketsPerAgent: number
  /** Edits of one shared contact seen by every other agent holding it. */
  readonly latency: LatencyResult
}

interface Agent {
  /** The agent's client of each document name. */
  readonly documents: Map<string, LatencyClient>
  close(): Promise<void>
}

/** The documents agent `index` of `agents` opens. */
function documentsOf(index: number, agents: number): string[] {
  const contacts = Math.max(1, Math.floor(agents / 5))
  return [
    `${BENCH_WORKSPACE}/schema`,
    `${BENCH_WORKSPACE}/conversation/inbox${index}`,
    ...Array.from({ length: CONTACTS_PER_AGENT }, (_, k) => contactNumber((index + k) % contacts)),
  ]
}

async function openAgent(
  child: ServerChild,
  names: readonly string[],
  multiplexed: boolean,
): Promise<Agent> {
  const documents = new Map<string, LatencyClient>()
  if (child.kind === 'cardfile' && multiplexed) {
    const token = child.tokens?.agent
    if (token === undefined) throw new Error('the Cardfile child minted no token')
    const socket = await BenchMuxSocket.connect(
      child.url,
      BENCH_WORKSPACE,
      token,
      CONNECT_TIMEOUT_MS,
    )
    const clients = await Promise.all(names.map((name) => socket.open(name, CONNECT_TIMEOUT_MS)))
    names.forEach((name, i) => documents.set(name, clients[i]!))
    return { documents, close: () => socket.close() }
  }
  if (child.kind === 'hocuspocus') {
    const token = child.tokens?.agent
    if (token === undefined) throw new Error('the Hocuspocus child minted no token')
    const socket = new HocuspocusSharedSocket(child.url)
    const clients = await Promise.all(
      names.map((name) => socket.open(name, token, CONNECT_TIMEOUT_MS)),
    )
    names.forEach((name, i) => documents.set(name, clients[i]!))
    return { documents, close: async () => socket.close() }
  }
  const clients: PhaseClient[] = await Promise.all(
    names.map((name) => connectPhaseClient(child, name, CONNECT_TIMEOUT_MS)),
  )
  names.forEach((name, i) => documents.set(name, clients[i]!))
  return { documents, close: () => closeAll(clients) }
}

/**
 * Opens `agents` agents' documents, `OPEN_CONCURRENCY` agents at a time, then measures
 * edit-to-visible on the first agent's first contact.
 *
 * @example
 * const inbox = await inboxWorkload(child, 200, 100)
 */
export async function inboxWorkload(
  child: ServerChild,
  agents: number,
  samples: number,
  /** Cardfile only: every agent's documents over one socket (`/<workspace>/mux`). */
  multiplexed = false,
): Promise<InboxResult> {
  const opened: Agent[] = []
  try {
    await pause(300)
    const before = await child.memory()
    const openMs: number[] = []
    for (let start = 0; start < agents; start += OPEN_CONCURRENCY) {
      const batch = Array.from(
        { length: Math.min(OPEN_CONCURRENCY, agents - start) },
        async (_, k) => {
          const startedAt = performance.now()
          const agent = await openAgent(child, documentsOf(start + k, agents), multiplexed)
          openMs.push(performance.now() - startedAt)
          return agent
        },
      )
      opened.push(...(await Promise.all(batch)))
    }
    await pause(300)
    const after = await child.memory()
    const shared = documentsOf(0, agents)[2]!
    const holders = opened.flatMap((agent) => {
      const client = agent.documents.get(shared)
      return client === undefined ? [] : [client]
    })
    const latency = await measureLatency(holders, {
      samples,
      warmup: Math.min(20, Math.ceil(samples / 10)),
      gapMs: 5,
      editTimeoutMs: 10_000,
      deadline: performance.now() + 25_000,
    })
    return {
      openMs,
      heapPerAgent: (after.heapUsed + after.external - before.heapUsed - before.external) / agents,
      socketsPerAgent:
        child.kind === 'hocuspocus' || (child.kind === 'cardfile' && multiplexed)
          ? 1
          : documentsOf(0, agents).length,
      latency,
    }
  } finally {
    await Promise.all(opened.map((agent) => agent.close()))
  }
}
