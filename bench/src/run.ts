/**
 * `npm run bench`: Cardfile beside Hocuspocus 4.7 (its SQLite extension, a JWT check, its own
 * provider) and a bare `ws` relay, same run, same process tree. For each client count it starts
 * each server in a fresh child process, connects the clients here, and measures idle memory per
 * connection, edit-to-visible latency, relayed updates per second and server CPU per update per
 * observer; then memory per loaded contact document; then the lifecycle phase (start, stop,
 * kill -9, cold load, snapshot size) and the cluster phase. Prints Markdown tables with each
 * figure, Cardfile's ratios to Hocuspocus and to the bare relay, and the goals, met or not.
 *
 * Environment: BENCH_CLIENTS=2,100,500,1000  BENCH_DOCS=1000  BENCH_SAMPLES=200
 * BENCH_SERVERS=cardfile,hocuspocus,bare  BENCH_MANY_DOCS=200  BENCH_STORM=500  BENCH_INBOX_AGENTS=200
 * BENCH_LIFECYCLE=1  BENCH_DURABILITY=1
 * BENCH_CLUSTER_READERS=99
 */
import type { CpuSample, MemorySample, ServerKind } from './ipc'
import { contactNumber, LATENCY_ATTRIBUTE, sharedContact, writeSequence } from './contact-edits'
import type { BenchClient } from './bench-client'
import { measureLatency } from './latency'
import type { LatencyResult } from './latency'
import { lifecycleRows, runLifecycle } from './lifecycle'
import { inboxWorkload } from './inbox'
import type { InboxResult } from './inbox'
import { manyDocuments, reconnectStorm } from './scenarios'
import type { ManyDocumentsResult, StormResult } from './scenarios'
import { CLUSTER_SETUPS, renderClusterTable, runClusterSetup } from './cluster'
import type { ClusterRun } from './cluster'
import { closeAll, connectMany, connectPhaseClient } from './phase-client'
import type { PhaseClient } from './phase-client'
import { describeMachine, renderTable } from './report'
import type { Row } from './report'
import { seedSchema } from './schema-seed'
import { startServerChild } from './server-child'
import type { ServerChild } from './server-child'
import { pause, percentile, within } from './stats'
import { measureThroughput } from './throughput'
import type { ThroughputResult } from './throughput'

const ALL_KINDS: readonly ServerKind[] = ['cardfile', 'hocuspocus', 'bare']
const KINDS = readKinds()
const CONNECT_CONCURRENCY = 50
const CONNECT_TIMEOUT_MS = 20_000
const LATENCY_PHASE_MS = 25_000
/** Edits made before the latency phase's measured ones, with the same pacing. */
const LATENCY_WARMUP = 200
const THROUGHPUT_TIMEOUT_MS = 60_000
const SAVE_TIMEOUT_MS = 30_000
/** Deliveries the throughput phase aims at per run: enough to dwarf start-up effects. */
const TARGET_DELIVERIES = 100_000
/** Lets the server finish work a connect or write left queued before memory is sampled. */
const SETTLE_MS = 300

function readCounts(name: string, fallback: readonly number[]): number[] {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === '') return [...fallback]
  const counts = raw.split(',').map((part) => Number(part.trim()))
  if (counts.some((count) => !Number.isInteger(count) || count < 0 || count > 5000)) {
    throw new Error(`${name} must be a comma-separated list of integers from 0 to 5000: "${raw}"`)
  }
  return counts
}

function readKinds(): ServerKind[] {
  const raw = process.env.BENCH_SERVERS ?? ALL_KINDS.join(',')
  const kinds = raw.split(',').map((part) => part.trim())
  if (!kinds.every((kind): kind is ServerKind => (ALL_KINDS as string[]).includes(kind))) {
    throw new Error(`BENCH_SERVERS must list some of ${ALL_KINDS.join(', ')}: "${raw}"`)
  }
  return kinds
}

const CLIENT_COUNTS = readCounts('BENCH_CLIENTS', [2, 100, 500, 1000]).filter((count) => count >= 2)
const [DOC_COUNT = 1000] = readCounts('BENCH_DOCS', [1000])
const [SAMPLES = 200] = readCounts('BENCH_SAMPLES', [200])
const [CLUSTER_READERS = 99] = readCounts('BENCH_CLUSTER_READERS', [99])
const [LIFECYCLE = 1] = readCounts('BENCH_LIFECYCLE', [1])
const [DURABILITY = 1] = readCounts('BENCH_DURABILITY', [1])
const [MANY_DOCS = 200] = readCounts('BENCH_MANY_DOCS', [200])
const [STORM = 500] = readCounts('BENCH_STORM', [500])
const [INBOX_AGENTS = 200] = readCounts('BENCH_INBOX_AGENTS', [200])
/** Clients per document of the many-documents workload, and the edits each writer makes. */
const CLIENTS_PER_DOC = 5
const MANY_EDITS = 20
const MANY_GAP_MS = 100

interface ClientsRun {
  readonly heapPerConnection: number
  readonly rssPerConnection: number
  readonly latency: LatencyResult
  /** Server CPU during the latency phase (one writer, paced edits), microseconds. */
  readonly latencyCpuMicros: number
  readonly throughput: ThroughputResult
  /** Server CPU during the throughput phase, microseconds. */
  readonly cpuMicros: number
}

interface DocsRun {
  readonly heapPerDocument: number
  readonly rssPerDocument: number
}

/** Heap is the JS heap plus external memory (socket buffers and other ArrayBuffers live there). */
const heapOf = (sample: MemorySample): number => sample.heapUsed + sample.external

const cpuSpent = (before: CpuSample, after: CpuSample): number =>
  after.user + after.system - before.user - before.system

const connectTo =
  (child: ServerChild, docName: (index: number) => string) =>
  (index: number): Promise<PhaseClient> =>
    connectPhaseClient(child, docName(index), CONNECT_TIMEOUT_MS)

async function withServer<T>(
  kind: ServerKind,
  body: (child: ServerChild) => Promise<T>,
  env: Record<string, string> = {},
): Promise<T> {
  const child = await startServerChild(kind, env)
  try {
    if (kind === 'cardfile' && child.tokens !== null) await seedSchema(child.url, child.tokens)
    return await body(child)
  } finally {
    await child.stop()
  }
}

async function runClients(
  kind: ServerKind,
  count: number,
  env: Record<string, string> = {},
): Promise<ClientsRun> {
  return withServer(
    kind,
    async (child) => {
      const connect = connectTo(child, () => sharedContact)
      // The first client loads the document; memory per idle connection is what the others add.
      const first = await connect(0)
      const clients = [first]
      try {
        await pause(SETTLE_MS)
        const before = await child.memory()
        clients.push(
          ...(await connectMany(count - 1, CONNECT_CONCURRENCY, (index) => connect(index + 1))),
        )
        await pause(SETTLE_MS)
        const after = await child.memory()
        // Warm-up edits first, outside the CPU sample too: a server's first edits pay for
        // compiling its code paths (JIT), which a long-running server pays once.
        await measureLatency(clients, {
          samples: 0,
          warmup: LATENCY_WARMUP,
          gapMs: 5,
          editTimeoutMs: 10_000,
          deadline: performance.now() + LATENCY_PHASE_MS,
        })
        const latencyCpuBefore = await child.cpu()
        const latency = await measureLatency(clients, {
          samples: SAMPLES,
          warmup: 0,
          gapMs: 5,
          editTimeoutMs: 10_000,
          deadline: performance.now() + LATENCY_PHASE_MS,
        })
        const latencyCpuAfter = await child.cpu()
        const writers = Math.min(4, count - 1)
        const cpuBefore = await child.cpu()
        const throughput = await measureThroughput(clients, {
          writers,
          updatesPerWriter: Math.round(
            Math.min(5000, Math.max(50, TARGET_DELIVERIES / (writers * (count - 1)))),
          ),
          window: 32,
          timeoutMs: THROUGHPUT_TIMEOUT_MS,
        })
        const cpuAfter = await child.cpu()
        return {
          heapPerConnection: (heapOf(after) - heapOf(before)) / (count - 1),
          rssPerConnection: (after.rss - before.rss) / (count - 1),
          latency,
          latencyCpuMicros: cpuSpent(latencyCpuBefore, latencyCpuAfter),
          throughput,
          cpuMicros: cpuSpent(cpuBefore, cpuAfter),
        }
      } finally {
        await closeAll(clients)
      }
    },
    env,
  )
}

async function runDocuments(kind: ServerKind, count: number): Promise<DocsRun> {
  return withServer(kind, async (child) => {
    await pause(SETTLE_MS)
    const before = await child.memory()
    const clients = await connectMany(count, CONNECT_CONCURRENCY, connectTo(child, contactNumber))
    try {
      // Each document holds one custom value, as an opened contact with an edit would.
      for (const client of clients) writeSequence(client, LATENCY_ATTRIBUTE, 1)
      if (kind === 'cardfile') {
        await within(
          Promise.all(
            (clients as BenchClient[]).map(
              (client) =>
                new Promise<void>((resolve) => {
                  if (client.isSaved()) resolve()
                  client.onDurableAck = () => {
                    if (client.isSaved()) resolve()
                  }
                }),
            ),
          ),
          SAVE_TIMEOUT_MS,
          'not every document edit was acknowledged as saved',
        )
      }
      await pause(SETTLE_MS)
      const after = await child.memory()
      return {
        heapPerDocument: (heapOf(after) - heapOf(before)) / count,
        rssPerDocument: (after.rss - before.rss) / count,
      }
    } finally {
      await closeAll(clients)
    }
  })
}

type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false }

async function attempt<T>(label: string, body: () => Promise<T>): Promise<Outcome<T>> {
  const startedAt = performance.now()
  try {
    const value = await body()
    console.log(`  ${label}: done in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`)
    return { ok: true, value }
  } catch (error) {
    console.error(`  ${label}: FAILED: ${error instanceof Error ? error.message : String(error)}`)
    return { ok: false }
  }
}

const valueOf = <T>(outcome: Outcome<T> | undefined): T | null =>
  outcome?.ok === true ? outcome.value : null

type Runs<T> = Partial<Record<ServerKind, T | null>>

/** Each server's figure read from its run (null where the run failed or was not asked for). */
const figures = <T>(runs: Runs<T>, read: (run: T) => number): Row['values'] =>
  Object.fromEntries(
    KINDS.map((kind) => {
      const run = runs[kind]
      return [kind, run === null || run === undefined ? null : read(run)]
    }),
  )

const AT_MOST_HOCUSPOCUS = { against: 'hocuspocus', atMost: 1 } as const

function clientRows(count: number, runs: Runs<ClientsRun>): Row[] {
  const pick = (read: (run: ClientsRun) => number) => figures(runs, read)
  const clients = String(count)
  const ms = { unit: 'ms', digits: 2 }
  return [
    {
      figure: 'edit-to-visible p50, all clients',
      clients,
      ...ms,
      values: pick((run) => percentile(run.latency.untilAll, 50)),
      goal: AT_MOST_HOCUSPOCUS,
    },
    {
      figure: 'edit-to-visible p99, all clients',
      clients,
      ...ms,
      values: pick((run) => percentile(run.latency.untilAll, 99)),
      goal: AT_MOST_HOCUSPOCUS,
    },
    ...(count >= 1000
      ? [
          {
            figure: 'edit-to-visible p99, all clients, against the bare relay',
            clients,
            ...ms,
            values: pick((run) => percentile(run.latency.untilAll, 99)),
            goal: { against: 'bare', atMost: 1.2 } as const,
          },
        ]
      : []),
    {
      figure: 'edit-to-visible p50, per client',
      clients,
      ...ms,
      values: pick((run) => percentile(run.latency.perDelivery, 50)),
      goal: AT_MOST_HOCUSPOCUS,
    },
    {
      figure: 'edit-to-visible p99, per client',
      clients,
      ...ms,
      values: pick((run) => percentile(run.latency.perDelivery, 99)),
      goal: AT_MOST_HOCUSPOCUS,
    },
    {
      figure: 'relayed updates per second (deliveries)',
      clients,
      unit: '/s',
      digits: 0,
      values: pick((run) => run.throughput.deliveries / run.throughput.seconds),
    },
    {
      figure: 'server CPU per update per observer, one paced writer',
      clients,
      unit: 'us',
      digits: 2,
      values: pick((run) => run.latencyCpuMicros / (run.latency.edits * (count - 1))),
      goal: AT_MOST_HOCUSPOCUS,
    },
    {
      figure: 'server CPU per update per observer, flood',
      clients,
      unit: 'us',
      digits: 2,
      values: pick((run) => run.cpuMicros / run.throughput.deliveries),
      goal: AT_MOST_HOCUSPOCUS,
    },
    {
      figure: 'heap per idle connection',
      clients,
      unit: 'KB',
      digits: 2,
      values: pick((run) => run.heapPerConnection / 1024),
      goal: { against: 'hocuspocus', atMost: 0.5 },
    },
    {
      figure: 'RSS per idle connection',
      clients,
      unit: 'KB',
      digits: 2,
      values: pick((run) => run.rssPerConnection / 1024),
    },
  ]
}

async function main(): Promise<void> {
  const startedAt = performance.now()
  console.log(
    `Cardfile benchmark: ${KINDS.join(', ')}; clients ${CLIENT_COUNTS.join(', ')}; documents ${DOC_COUNT}`,
  )
  console.log(`machine: ${describeMachine()}\n`)
  const rows: Row[] = []
  let failed = false
  for (const count of CLIENT_COUNTS) {
    const runs: Runs<ClientsRun> = {}
    for (const kind of KINDS) {
      const outcome = await attempt(`${kind}, ${count} clients`, () => runClients(kind, count))
      failed ||= !outcome.ok
      runs[kind] = valueOf(outcome)
    }
    rows.push(...clientRows(count, runs))
    if (DURABILITY > 0 && count === 2 && KINDS.includes('cardfile')) {
      rows.push(...(await durabilityRows(runs)))
    }
  }
  if (DOC_COUNT > 0) {
    const documents: Runs<DocsRun> = {}
    for (const kind of KINDS) {
      const outcome = await attempt(`${kind}, ${DOC_COUNT} documents`, () =>
        runDocuments(kind, DOC_COUNT),
      )
      failed ||= !outcome.ok
      documents[kind] = valueOf(outcome)
    }
    rows.push(
      {
        figure: 'heap per loaded contact document (+ its connection)',
        clients: `${DOC_COUNT} docs`,
        unit: 'KB',
        digits: 2,
        values: figures(documents, (run) => run.heapPerDocument / 1024),
      },
      {
        figure: 'RSS per loaded contact document (+ its connection)',
        clients: `${DOC_COUNT} docs`,
        unit: 'KB',
        digits: 2,
        values: figures(documents, (run) => run.rssPerDocument / 1024),
      },
    )
  }
  if (MANY_DOCS > 0) {
    const many: Runs<ManyDocumentsResult> = {}
    for (const kind of KINDS) {
      const outcome = await attempt(
        `${kind}, ${MANY_DOCS} documents x ${CLIENTS_PER_DOC} clients`,
        () =>
          withServer(kind, (child) =>
            manyDocuments(child, MANY_DOCS, CLIENTS_PER_DOC, MANY_EDITS, MANY_GAP_MS),
          ),
      )
      failed ||= !outcome.ok
      many[kind] = valueOf(outcome)
    }
    const setting = `${MANY_DOCS} docs x ${CLIENTS_PER_DOC}`
    for (const [label, read] of [
      [
        'edit-to-visible p50, all clients of the document',
        (r: ManyDocumentsResult) => percentile(r.untilAll, 50),
      ],
      [
        'edit-to-visible p99, all clients of the document',
        (r: ManyDocumentsResult) => percentile(r.untilAll, 99),
      ],
      [
        'edit-to-visible p50, per client',
        (r: ManyDocumentsResult) => percentile(r.perDelivery, 50),
      ],
      [
        'edit-to-visible p99, per client',
        (r: ManyDocumentsResult) => percentile(r.perDelivery, 99),
      ],
    ] as const) {
      rows.push({
        figure: label,
        clients: setting,
        unit: 'ms',
        digits: 2,
        values: figures(many, read),
        goal: AT_MOST_HOCUSPOCUS,
      })
    }
  }
  if (STORM > 0) {
    const storms: Runs<StormResult> = {}
    for (const kind of KINDS) {
      const outcome = await attempt(`${kind}, ${STORM}-client reconnect storm`, () =>
        withServer(kind, (child) => reconnectStorm(child, STORM)),
      )
      failed ||= !outcome.ok
      storms[kind] = valueOf(outcome)
    }
    const setting = `${STORM} clients`
    rows.push(
      {
        figure: 'reconnect storm: until every client synced',
        clients: setting,
        unit: 'ms',
        digits: 1,
        values: figures(storms, (r) => r.total),
        goal: AT_MOST_HOCUSPOCUS,
      },
      {
        figure: 'reconnect storm: p50 per client',
        clients: setting,
        unit: 'ms',
        digits: 1,
        values: figures(storms, (r) => percentile(r.perClient, 50)),
        goal: AT_MOST_HOCUSPOCUS,
      },
      {
        figure: 'reconnect storm: p99 per client',
        clients: setting,
        unit: 'ms',
        digits: 1,
        values: figures(storms, (r) => percentile(r.perClient, 99)),
        goal: AT_MOST_HOCUSPOCUS,
      },
    )
  }
  if (INBOX_AGENTS > 0) {
    const inbox: Runs<InboxResult> = {}
    for (const kind of KINDS) {
      const outcome = await attempt(`${kind}, inbox of ${INBOX_AGENTS} agents`, () =>
        withServer(kind, (child) => inboxWorkload(child, INBOX_AGENTS, SAMPLES)),
      )
      failed ||= !outcome.ok
      inbox[kind] = valueOf(outcome)
    }
    // The same workload with the Cardfile client's transport: an agent's documents over one
    // socket. Its rows put it in the Cardfile column, beside the same Hocuspocus and bare runs.
    const multiplexed: Runs<InboxResult> = { ...inbox, cardfile: null }
    if (KINDS.includes('cardfile')) {
      const outcome = await attempt(`cardfile, inbox of ${INBOX_AGENTS} agents, one socket`, () =>
        withServer('cardfile', (child) => inboxWorkload(child, INBOX_AGENTS, SAMPLES, true)),
      )
      failed ||= !outcome.ok
      multiplexed.cardfile = valueOf(outcome)
    }
    rows.push(
      ...inboxRows(`${INBOX_AGENTS} agents`, 'Cardfile a socket per document', inbox),
      ...inboxRows(`${INBOX_AGENTS} agents`, 'Cardfile one socket per agent', multiplexed),
    )
  }
  const lifecycle: Rows = []
  if (LIFECYCLE > 0) {
    const outcome = await attempt('lifecycle (start, stop, kill -9, cold load, snapshot)', () =>
      runLifecycle(KINDS),
    )
    failed ||= !outcome.ok
    if (outcome.ok) lifecycle.push(...lifecycleRows(outcome.value))
  }
  const clusterRuns: (ClusterRun | null)[] = []
  if (CLUSTER_READERS > 0) {
    for (const setup of CLUSTER_SETUPS) {
      const outcome = await attempt(`${setup.label}, ${CLUSTER_READERS} readers`, () =>
        runClusterSetup(setup, CLUSTER_READERS, SAMPLES),
      )
      failed ||= !outcome.ok
      clusterRuns.push(valueOf(outcome))
    }
  }
  console.log(`\nmachine: ${describeMachine()}`)
  console.log(
    'ratios: Cardfile / Hocuspocus 4.7 (extension-sqlite) and Cardfile / bare ws relay, same run\n',
  )
  console.log(renderTable(rows))
  if (lifecycle.length > 0) {
    console.log('\nLifecycle and storage (built servers, one process each, same run)')
    console.log(renderTable(lifecycle))
  }
  if (CLUSTER_READERS > 0) {
    console.log(
      `\nSeveral instances: one writer, ${CLUSTER_READERS} readers spread over the instances, edit-to-visible`,
    )
    console.log(renderClusterTable(clusterRuns, CLUSTER_READERS))
  }
  console.log(`\ntotal ${((performance.now() - startedAt) / 1000).toFixed(0)} s`)
  if (failed) process.exitCode = 1
}

type Rows = Row[]

/**
 * Cardfile set up to keep less, so that the same run says what its durability costs: the same
 * 2-client figures with SQLite's fsync left to checkpoints (`--sqlite-sync normal`: a killed
 * process loses nothing, a power cut may lose the last commits) and with storage in memory
 * (nothing survives a restart, the relay and its checks alone). Each row puts the variant in
 * the Cardfile column beside the same Hocuspocus and bare runs.
 */
const DURABILITY_VARIANTS = [
  { label: 'SQLite --sqlite-sync normal', env: { BENCH_SQLITE_SYNCHRONOUS: 'normal' } },
  { label: 'memory storage, nothing durable', env: { BENCH_BACKEND: 'memory' } },
] as const

/** The figures a durable commit weighs on: latency and CPU per update. */
const DURABILITY_FIGURES = new Set([
  'edit-to-visible p50, all clients',
  'edit-to-visible p99, all clients',
  'server CPU per update per observer, one paced writer',
  'server CPU per update per observer, flood',
])

async function durabilityRows(peers: Runs<ClientsRun>): Promise<Row[]> {
  const rows: Row[] = []
  for (const variant of DURABILITY_VARIANTS) {
    const outcome = await attempt(`cardfile (${variant.label}), 2 clients`, () =>
      runClients('cardfile', 2, { ...variant.env }),
    )
    if (!outcome.ok) continue
    for (const row of clientRows(2, { ...peers, cardfile: outcome.value })) {
      if (!DURABILITY_FIGURES.has(row.figure)) continue
      rows.push({ ...row, figure: `${row.figure} (Cardfile: ${variant.label})` })
    }
  }
  return rows
}

/** The inbox workload's rows; `variant` names how Cardfile's agents connected. */
function inboxRows(setting: string, variant: string, inbox: Runs<InboxResult>): Row[] {
  const inboxRow = (
    figure: string,
    unit: string,
    digits: number,
    read: (run: InboxResult) => number,
    goal?: Row['goal'],
  ): Row => ({
    figure: `inbox (${variant}): ${figure}`,
    clients: setting,
    unit,
    digits,
    values: figures(inbox, read),
    ...(goal === undefined ? {} : { goal }),
  })
  return [
    inboxRow(
      'sockets per agent (schema, conversation, 3 contacts)',
      '',
      0,
      (r) => r.socketsPerAgent,
    ),
    inboxRow(
      "open an agent's documents, p50",
      'ms',
      1,
      (r) => percentile(r.openMs, 50),
      AT_MOST_HOCUSPOCUS,
    ),
    inboxRow(
      "open an agent's documents, p99",
      'ms',
      1,
      (r) => percentile(r.openMs, 99),
      AT_MOST_HOCUSPOCUS,
    ),
    inboxRow('server heap per agent', 'KB', 2, (r) => r.heapPerAgent / 1024, {
      against: 'hocuspocus',
      atMost: 0.5,
    }),
    inboxRow(
      'edit-to-visible on a shared contact, p50',
      'ms',
      2,
      (r) => percentile(r.latency.untilAll, 50),
      AT_MOST_HOCUSPOCUS,
    ),
    inboxRow(
      'edit-to-visible on a shared contact, p99',
      'ms',
      2,
      (r) => percentile(r.latency.untilAll, 99),
      AT_MOST_HOCUSPOCUS,
    ),
  ]
}

// Exits once the tables are printed: a peer's client the lifecycle phase left reconnecting to
// a server it killed would otherwise keep the process alive.
main()
  .catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
  .finally(() => process.exit())
