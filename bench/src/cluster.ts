import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { sharedContact } from './contact-edits'
import { measureLatency } from './latency'
import type { LatencyResult } from './latency'
import { closeAll, connectPhaseClient } from './phase-client'
import type { PhaseClient } from './phase-client'
import { seedSchema } from './schema-seed'
import { startServerChild } from './server-child'
import type { ServerChild } from './server-child'
import { percentile } from './stats'

/**
 * The cluster phase of `npm run bench`: one writer and `readers` readers on one contact, the
 * readers spread over the instances, for
 * - Cardfile on one instance (SQLite; PostgreSQL),
 * - Cardfile on three instances sharing PostgreSQL and Redis, the writer on the document's owner
 *   and, in another run, on an instance that forwards to the owner,
 * - Hocuspocus 4.7 on one instance and on two with `@hocuspocus/extension-redis`,
 * each in child processes of its own, measured in the same run.
 */

const CONNECT_TIMEOUT_MS = 20_000
const LATENCY_PHASE_MS = 25_000

export interface ClusterSetup {
  readonly label: string
  readonly kind: 'cardfile' | 'hocuspocus'
  readonly instances: number
  /** `sqlite`, or `postgres` (with Redis once there are several instances). */
  readonly storage: 'sqlite' | 'postgres' | 'none'
  /** Instance of the writer; a reader on instance 0 connects first, so instance 0 owns the document. */
  readonly writerOn: number
}

export const CLUSTER_SETUPS: readonly ClusterSetup[] = [
  {
    label: 'Cardfile, 1 instance, SQLite',
    kind: 'cardfile',
    instances: 1,
    storage: 'sqlite',
    writerOn: 0,
  },
  {
    label: 'Cardfile, 1 instance, PostgreSQL',
    kind: 'cardfile',
    instances: 1,
    storage: 'postgres',
    writerOn: 0,
  },
  {
    label: 'Cardfile, 3 instances, PostgreSQL + Redis, writer on the owner',
    kind: 'cardfile',
    instances: 3,
    storage: 'postgres',
    writerOn: 0,
  },
  {
    label: 'Cardfile, 3 instances, PostgreSQL + Redis, writer on another instance',
    kind: 'cardfile',
    instances: 3,
    storage: 'postgres',
    writerOn: 1,
  },
  {
    label: 'Hocuspocus 4.7, 1 instance',
    kind: 'hocuspocus',
    instances: 1,
    storage: 'none',
    writerOn: 0,
  },
  {
    label: 'Hocuspocus 4.7, 2 instances + extension-redis',
    kind: 'hocuspocus',
    instances: 2,
    storage: 'none',
    writerOn: 0,
  },
  // Like for like with Cardfile's three instances (same processes sharing the same cores).
  {
    label: 'Hocuspocus 4.7, 3 instances + extension-redis',
    kind: 'hocuspocus',
    instances: 3,
    storage: 'none',
    writerOn: 0,
  },
]

export interface ClusterRun {
  readonly setup: ClusterSetup
  readonly latency: LatencyResult
}

const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'

async function onPostgres(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/** Starts the setup's instances, runs the latency phase and stops everything again. */
export async function runClusterSetup(
  setup: ClusterSetup,
  readers: number,
  samples: number,
): Promise<ClusterRun> {
  const run = randomBytes(4).toString('hex')
  const schema = `cardfile_bench_cluster_${run}`
  const env: Record<string, string> = {}
  if (setup.storage === 'postgres') {
    env.BENCH_BACKEND = 'postgres'
    env.BENCH_POSTGRES_URL = POSTGRES_URL
    env.BENCH_POSTGRES_SCHEMA = schema
  } else if (setup.storage === 'sqlite') {
    env.BENCH_BACKEND = 'sqlite'
  }
  if (setup.instances > 1) {
    env.BENCH_REDIS_URL = REDIS_URL
    env.BENCH_REDIS_PREFIX = `bench-${run}`
  }
  const children: ServerChild[] = []
  const clients: PhaseClient[] = []
  try {
    // One after the other: the first creates the tables.
    for (let i = 0; i < setup.instances; i++) children.push(await startServerChild(setup.kind, env))
    const [first] = children
    if (first?.tokens === null || first === undefined) throw new Error('no tokens')
    if (setup.kind === 'cardfile') await seedSchema(first.url, first.tokens)
    const connect = (instance: number): Promise<PhaseClient> =>
      connectPhaseClient(
        {
          kind: setup.kind,
          url: children[instance % children.length]?.url ?? first.url,
          tokens: first.tokens,
        },
        sharedContact,
        CONNECT_TIMEOUT_MS,
      )
    // A reader on instance 0 first (it loads, and so owns, the document), then the writer.
    const anchor = await connect(0)
    const writer = await connect(setup.writerOn)
    clients.push(writer, anchor)
    for (let i = 1; i < readers; i++) clients.push(await connect(i))
    const latency = await measureLatency(clients, {
      samples,
      warmup: Math.min(20, Math.ceil(samples / 10)),
      gapMs: 5,
      editTimeoutMs: 10_000,
      deadline: performance.now() + LATENCY_PHASE_MS,
    })
    return { setup, latency }
  } finally {
    await closeAll(clients)
    for (const child of children.reverse()) await child.stop()
    if (setup.storage === 'postgres') await onPostgres(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  }
}

const ms = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(2)} ms` : 'n/a')
const ratio = (a: number, b: number | undefined): string =>
  b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0
    ? 'n/a'
    : (a / b).toFixed(2)

/** The cluster table: figures per setup, and each one's p99 against one Cardfile instance and Hocuspocus. */
export function renderClusterTable(runs: readonly (ClusterRun | null)[], readers: number): string {
  const p99 = (label: string): number | undefined => {
    const run = runs.find((r) => r?.setup.label === label)
    return run === undefined || run === null ? undefined : percentile(run.latency.untilAll, 99)
  }
  const oneSqlite = p99(CLUSTER_SETUPS[0]!.label)
  const onePostgres = p99(CLUSTER_SETUPS[1]!.label)
  const hocusOne = p99(CLUSTER_SETUPS[4]!.label)
  const hocusTwo = p99(CLUSTER_SETUPS[5]!.label)
  const hocusThree = p99(CLUSTER_SETUPS[6]!.label)
  const header = [
    'setup',
    'readers',
    'p50, all clients',
    'p99, all clients',
    'p99, per client',
    'p99 / 1 Cardfile on PostgreSQL',
    'p99 / 1 Cardfile on SQLite',
    'p99 / Hocuspocus, same instances',
  ]
  const lines = CLUSTER_SETUPS.map((setup, index) => {
    const run = runs[index]
    if (run === null || run === undefined)
      return [setup.label, String(readers), 'n/a', 'n/a', 'n/a', '', '', '']
    const all = percentile(run.latency.untilAll, 99)
    const peer =
      setup.kind === 'hocuspocus'
        ? undefined
        : setup.instances > 2
          ? hocusThree
          : setup.instances > 1
            ? hocusTwo
            : hocusOne
    return [
      setup.label,
      String(readers),
      ms(percentile(run.latency.untilAll, 50)),
      ms(all),
      ms(percentile(run.latency.perDelivery, 99)),
      setup.kind === 'cardfile' ? ratio(all, onePostgres) : '',
      setup.kind === 'cardfile' ? ratio(all, oneSqlite) : '',
      peer === undefined ? '' : ratio(all, peer),
    ]
  })
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...lines.map((line) => (line[column] ?? '').length)),
  )
  const render = (cells: readonly string[]): string =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`
  // The slowest cross-instance setup against the faster single instance: the strict reading.
  const cluster = CLUSTER_SETUPS.filter((s) => s.kind === 'cardfile' && s.instances > 1).map((s) =>
    p99(s.label),
  )
  const worst = cluster.includes(undefined) ? undefined : Math.max(...(cluster as number[]))
  const single =
    onePostgres === undefined || oneSqlite === undefined
      ? undefined
      : Math.min(onePostgres, oneSqlite)
  const verdict = (met: boolean | undefined): string =>
    met === undefined ? 'n/a' : met ? 'met' : 'not met'
  const within2x = worst === undefined || single === undefined ? undefined : worst <= 2 * single
  const aheadOfPeer = worst === undefined || hocusTwo === undefined ? undefined : worst < hocusTwo
  return [
    render(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...lines.map(render),
    '',
    `goal: cross-instance p99 within 2x of one instance (PostgreSQL and SQLite): ${verdict(within2x)}` +
      (worst === undefined || single === undefined ? '' : ` (${ms(worst)} vs ${ms(single)})`),
    `goal: cross-instance p99 below Hocuspocus 4.7 + extension-redis on 2 instances: ${verdict(aheadOfPeer)}` +
      (worst === undefined || hocusTwo === undefined ? '' : ` (${ms(worst)} vs ${ms(hocusTwo)})`),
  ].join('\n')
}
