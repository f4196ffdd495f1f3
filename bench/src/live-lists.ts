/**
 * Live-lists benchmark: BENCH_AGENTS agents (200 by default), each an SDK client whose list
 * store shows its team's queue, against one server (SQLite); inbound messages start
 * conversations that the router sends to one of four teams. Measured twice in the same run:
 * with the server's push (the list store's default) and with today's polling (every 1.5 s, as
 * the example inbox did, no push). Prints, for each, the time from an inbound message to its
 * row in every subscribed list of its team (p50/p99 over deliveries, and over messages for the
 * last list to show it), and the HTTP requests per minute per idle agent.
 *
 *   node --import tsx bench/src/live-lists.ts   (BENCH_AGENTS=200 BENCH_MESSAGES=20 BENCH_IDLE_MS=15000)
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { CardfileClient, ListQuery } from '@cardfile/core'

// The packages are imported from their sources (the `source` export condition); re-run with it.
if (!process.execArgv.some((a) => a.includes('conditions=source'))) {
  const result = spawnSync(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', fileURLToPath(import.meta.url)],
    { stdio: 'inherit', env: process.env },
  )
  process.exit(result.status ?? 1)
}

const { ListStore, apiJson, createCardfileClient } = await import('@cardfile/core')
const { createCardfileServer, httpApi, signToken } = await import('@cardfile/server')
const { createSqliteBackend } = await import('@cardfile/server/sqlite')
const { WebSocket } = await import('ws')

const AGENTS = Number(process.env.BENCH_AGENTS ?? 200)
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20)
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 15_000)
/** The example inbox's polling interval before lists were pushed. */
const POLL_MS = 1500
const WS = 'bench'
const SECRET = 'live-lists-bench-secret-long-enough-for-hs256'
const TEAMS = ['email', 'sms', 'webchat', 'whatsapp'] as const
const GOAL_P99_MS = 100
const GOAL_REQUESTS_PER_MIN = 1

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0
    ? NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
}

// Every HTTP request of this process goes through fetch: counting it counts the agents' requests.
let requests = 0
const realFetch = globalThis.fetch
globalThis.fetch = (input, init) => {
  requests += 1
  return realFetch(input, init)
}

interface Agent {
  readonly client: CardfileClient
  readonly store: InstanceType<typeof ListStore>
  readonly query: ListQuery
  readonly team: string
  stop(): void
}

interface Figures {
  /** How long the inbound request itself took (the conversation is routed after it). */
  readonly inbound: number[]
  readonly deliveries: number[]
  readonly lastList: number[]
  readonly requestsPerIdleAgentMinute: number
}

async function measure(mode: 'push' | 'poll', serverUrl: string, wsUrl: string): Promise<Figures> {
  const agents: Agent[] = []
  for (let i = 0; i < AGENTS; i += 1) {
    const team = TEAMS[i % TEAMS.length]!
    const token = await signToken({
      secret: SECRET,
      userId: `agent-${i}`,
      workspace: WS,
      role: 'agent',
    })
    const client = createCardfileClient({
      url: wsUrl,
      workspace: WS,
      token,
      WebSocket,
      indexedDB: false,
      keepAliveMs: 0,
    })
    const store =
      mode === 'push'
        ? client.lists()
        : new ListStore({
            workspace: WS,
            fetch: (path) => apiJson(client, path),
            channel: null,
            pollMs: POLL_MS,
          })
    const query: ListQuery = { kind: 'queue', team }
    const stop = store.observe(query, 50, () => undefined)
    agents.push({ client, store, query, team, stop })
  }
  // Every list loaded (and, with push, subscribed).
  await waitUntil(() =>
    agents.every(
      (a) =>
        a.store.state(a.query, 50).fetchedAt > 0 &&
        (mode === 'poll' || a.store.state(a.query, 50).push === 'active'),
    ),
  )

  const idleFrom = requests
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS))
  const idle = requests - idleFrom
  const requestsPerIdleAgentMinute = idle / AGENTS / (IDLE_MS / 60_000)

  const system = await signToken({
    secret: SECRET,
    userId: 'ingest',
    workspace: WS,
    role: 'system',
  })
  const deliveries: number[] = []
  const lastList: number[] = []
  const inbound: number[] = []
  for (let m = 0; m < MESSAGES; m += 1) {
    const team = TEAMS[m % TEAMS.length]!
    const members = agents.filter((a) => a.team === team)
    const started = performance.now()
    const seen = new Map<Agent, number>()
    let conversationId: string | null = null
    const check = (agent: Agent) => {
      if (conversationId === null || seen.has(agent)) return
      const rows = agent.store.state<{ id: string }>(agent.query, 50).items
      if (rows.some((r) => r.id === conversationId)) seen.set(agent, performance.now() - started)
    }
    const offs = members.map((agent) => agent.store.observe(agent.query, 50, () => check(agent)))
    const res = await fetch(`${serverUrl}/api/${WS}/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${system}` },
      body: JSON.stringify({
        channel: team,
        platformUserId:
          team === 'email'
            ? `p${mode}${m}@example.org`
            : `+1415${mode === 'push' ? 1 : 2}${String(m).padStart(6, '0')}`,
        metadata: {},
        message: { text: `message ${m}` },
      }),
    })
    conversationId = ((await res.json()) as { conversationId: string }).conversationId
    inbound.push(performance.now() - started)
    for (const agent of members) check(agent)
    await waitUntil(() => seen.size === members.length, 30_000)
    for (const off of offs) off()
    deliveries.push(...seen.values())
    lastList.push(Math.max(...seen.values()))
  }
  for (const agent of agents) {
    agent.stop()
    if (mode === 'poll') agent.store.destroy()
    await agent.client.destroy()
  }
  return { inbound, deliveries, lastList, requestsPerIdleAgentMinute }
}

async function waitUntil(check: () => boolean, timeout = 120_000): Promise<void> {
  const from = Date.now()
  while (!check()) {
    if (Date.now() - from > timeout) throw new Error('the benchmark timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

/**
 * The server runs in its own process, as it would beside browsers: its event loop is not the
 * one of the clients (the two still share this machine's cores).
 */
if (process.env.LIVE_LISTS_SERVER === '1') {
  const dir = mkdtempSync(join(tmpdir(), 'cardfile-live-lists-bench-'))
  const backend = createSqliteBackend({ path: join(dir, 'bench.db'), synchronous: 'normal' })
  const server = await createCardfileServer({
    backend,
    // A benchmark's throwaway workspace, created when first used.
    autoCreateWorkspaces: 'advanced',
    auth: { secret: SECRET },
    port: 0,
    host: '127.0.0.1',
    logger: { warn: () => undefined },
    httpHandler: httpApi(),
    route: ({ channel }) => ({ team: channel, priority: 0 }),
    limits: { maxUnauthenticatedSockets: 4096 },
  })
  process.stdout.write(`${JSON.stringify({ url: server.url, wsUrl: server.wsUrl })}\n`)
  // Runs until the parent closes its stdin.
  process.stdin.resume()
  await new Promise((resolve) => process.stdin.once('end', resolve))
  await server.close()
  await backend.close()
  rmSync(dir, { recursive: true, force: true })
  process.exit(0)
}

const child = spawn(
  process.execPath,
  ['--conditions=source', '--import', 'tsx', fileURLToPath(import.meta.url)],
  { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, LIVE_LISTS_SERVER: '1' } },
)
const server = await new Promise<{ url: string; wsUrl: string }>((resolve, reject) => {
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString()
    const [line] = out.split('\n')
    if (out.includes('\n') && line !== undefined) {
      resolve(JSON.parse(line) as { url: string; wsUrl: string })
    }
  })
  child.once('exit', () => reject(new Error('the server process exited')))
})
try {
  console.log(
    `live lists: ${AGENTS} agents on ${TEAMS.length} team queues, ${MESSAGES} inbound messages`,
  )
  const rows: [string, Figures][] = []
  for (const mode of ['push', 'poll'] as const) {
    rows.push([
      mode === 'push' ? 'push (list store)' : `polling every ${POLL_MS} ms`,
      await measure(mode, server.url, server.wsUrl),
    ])
  }
  const ms = (v: number) => `${v.toFixed(1)} ms`
  console.log(
    'mode                    | row in a list p50 / p99 | in every list p50 / p99 | requests/min per idle agent',
  )
  for (const [name, f] of rows) {
    console.log(
      `${name.padEnd(23)} | ${ms(percentile(f.deliveries, 0.5)).padStart(9)} / ${ms(percentile(f.deliveries, 0.99)).padStart(9)} | ${ms(percentile(f.lastList, 0.5)).padStart(9)} / ${ms(percentile(f.lastList, 0.99)).padStart(9)} | ${f.requestsPerIdleAgentMinute.toFixed(2)}`,
    )
  }
  const push = rows[0]![1]
  console.log(
    `the inbound request alone (before routing sends the conversation to its team): p50 ${ms(percentile(push.inbound, 0.5))}, p99 ${ms(percentile(push.inbound, 0.99))}`,
  )
  const p99 = percentile(push.lastList, 0.99)
  console.log(
    `goal: p99 in every list under ${GOAL_P99_MS} ms: ${p99 < GOAL_P99_MS ? 'met' : 'NOT met'} (${ms(p99)}); ` +
      `at most ${GOAL_REQUESTS_PER_MIN} request per idle agent per minute: ${push.requestsPerIdleAgentMinute <= GOAL_REQUESTS_PER_MIN ? 'met' : 'NOT met'} (${push.requestsPerIdleAgentMinute.toFixed(2)})`,
  )
} finally {
  child.stdin.end()
  await new Promise((resolve) => child.once('exit', resolve))
}
