/**
 * The hooks benchmark proper (started by `hooks.ts` once the DOM is in place): a Cardfile server
 * in a child process (SQLite in a temporary directory, loopback only), @cardfile/react rendered
 * by react-dom into a jsdom document, IndexedDB from fake-indexeddb. Measures the time from
 * `useContact` mount to the first render showing the contact's values (cached in IndexedDB,
 * online and offline; fetched with an empty cache; fetched by a running page), and the renders of a 50-row panel
 * while another client edits one attribute, with selectors and naively.
 *
 * Environment: BENCH_HOOK_SAMPLES=30 (mounts per case)  BENCH_HOOK_EDITS=100
 */
import type { CardfileClient } from '@cardfile/core'
import { hookClient, PANEL_ATTRIBUTES, seedContacts, seedPanelSchema } from './hook-clients'
import { renderHookTable } from './hooks-report'
import type { HookRow } from './hooks-report'
import { measureMounts, mountContacts } from './mount-latency'
import type { MountResult, MountSample } from './mount-latency'
import { measureRenderCounts, PANEL_CONTACT } from './render-counts'
import type { PanelRenders, RenderCountResult } from './render-counts'
import { describeMachine } from './report'
import { startServerChild } from './server-child'
import { percentile, within } from './stats'

const WAIT_MS = 15_000
const WARMUP = 3
/** Contacts opened at once while seeding: each is a socket of the seeding client. */
const SEED_BATCH = 25

function readCount(name: string, fallback: number, max: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === '') return fallback
  const count = Number(raw)
  if (!Number.isInteger(count) || count < 1 || count > max) {
    throw new Error(`${name} must be an integer from 1 to ${max}: "${raw}"`)
  }
  return count
}

const SAMPLES = readCount('BENCH_HOOK_SAMPLES', 30, 500)
const EDITS = readCount('BENCH_HOOK_EDITS', 100, 1000)

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

const mean = (samples: readonly number[]): number =>
  samples.length === 0 ? Number.NaN : samples.reduce((sum, x) => sum + x, 0) / samples.length

const STATS: readonly (readonly [string, (samples: readonly number[]) => number])[] = [
  ['p50', (samples) => percentile(samples, 50)],
  ['p99', (samples) => percentile(samples, 99)],
  ['mean', mean],
]

function mountRows(result: MountResult | null): HookRow[] {
  const ms = (samples: MountSample[] | undefined) => samples?.map((sample) => sample.ms) ?? []
  const cached = ms(result?.cached)
  const offline = ms(result?.cachedOffline)
  const fetched = ms(result?.fetched)
  const open = ms(result?.fetchedSchemaOpen)
  const rows = (label: string, value: readonly number[], comparison: readonly number[]) =>
    STATS.map(([stat, read]): HookRow => ({
      figure: `${label} ${stat}`,
      value: value.length === 0 ? null : read(value),
      comparison: comparison.length === 0 ? null : read(comparison),
      unit: 'ms',
      digits: 2,
    }))
  return [
    ...rows('mount to values shown: cached / fetched, empty cache,', cached, fetched),
    ...rows('mount to values shown: cached, offline / fetched, empty cache,', offline, fetched),
    ...rows('mount to values shown: fetched, schema open / fetched, empty cache,', open, fetched),
  ]
}

function renderRows(result: RenderCountResult | null): HookRow[] {
  const edits = result?.edits ?? EDITS
  const row = (figure: string, read: (renders: PanelRenders) => number): HookRow => ({
    figure: `${figure}, ${edits} edits: selectors / whole contact`,
    value: result === null ? null : read(result.selector),
    comparison: result === null ? null : read(result.naive),
    unit: '',
    digits: 0,
  })
  return [
    row('renders of the edited row', (r) => r.editedRow),
    row(
      `renders of the other ${(result?.rows ?? PANEL_ATTRIBUTES.length) - 1} rows`,
      (r) => r.otherRows,
    ),
    row('renders of the panel container', (r) => r.panel),
    row('renders in total', (r) => r.editedRow + r.otherRows + r.panel),
  ]
}

const sources = (samples: readonly MountSample[]): string => {
  const counts = new Map<string, number>()
  for (const sample of samples) counts.set(sample.source, (counts.get(sample.source) ?? 0) + 1)
  return [...counts].map(([source, count]) => `${count} ${source}`).join(', ')
}

/** Runs both phases and prints the table; sets a failing exit code when a phase failed. */
export async function runHooksBench(): Promise<void> {
  // In Node every y-websocket provider adds a process exit listener; seeding opens a batch of
  // contacts at once. Bounded, so a real leak would still warn.
  process.setMaxListeners(2 * SEED_BATCH + 20)
  const startedAt = performance.now()
  console.log(`Cardfile hooks benchmark: ${SAMPLES} mounts per case, ${EDITS} edits`)
  console.log(`machine: ${describeMachine()}\n`)
  const child = await startServerChild('cardfile')
  const clients: CardfileClient[] = []
  let failed = false
  let mounts: MountResult | null = null
  let renders: RenderCountResult | null = null
  try {
    const tokens = child.tokens
    if (tokens === null) throw new Error('the Cardfile server child minted no tokens')
    const admin = hookClient(child.url, tokens.admin, 'admin')
    clients.push(admin)
    const seeded = await attempt('seed schema and contacts', async () => {
      await seedPanelSchema(admin, WAIT_MS)
      const ids = [PANEL_CONTACT, ...mountContacts(SAMPLES + WARMUP)]
      for (let start = 0; start < ids.length; start += SEED_BATCH) {
        await seedContacts(admin, ids.slice(start, start + SEED_BATCH), WAIT_MS)
      }
    })
    failed ||= !seeded.ok
    if (seeded.ok) {
      const mountOutcome = await attempt('mount to first render with values', () =>
        measureMounts({
          url: child.url,
          token: tokens.agent,
          samples: SAMPLES,
          warmup: WARMUP,
          timeoutMs: WAIT_MS,
        }),
      )
      failed ||= !mountOutcome.ok
      mounts = mountOutcome.ok ? mountOutcome.value : null
      const renderOutcome = await attempt('render counts of a 50-row panel', () => {
        const viewer = hookClient(child.url, tokens.agent, 'viewer')
        clients.push(viewer)
        return measureRenderCounts({ viewer, writer: admin, edits: EDITS, timeoutMs: WAIT_MS })
      })
      failed ||= !renderOutcome.ok
      renders = renderOutcome.ok ? renderOutcome.value : null
    }
  } finally {
    await Promise.allSettled(
      clients.map((client) => within(client.destroy(), WAIT_MS, 'a client never closed')),
    )
    await child.stop()
  }
  if (mounts !== null) {
    console.log(
      `\nfirst render with values came from: cached ${sources(mounts.cached)}; ` +
        `cached, offline ${sources(mounts.cachedOffline)}; fetched ${sources(mounts.fetched)}; ` +
        `schema open ${sources(mounts.fetchedSchemaOpen)}`,
    )
  }
  console.log(`\nmachine: ${describeMachine()}`)
  console.log('ratio = value / comparison\n')
  console.log(renderHookTable([...mountRows(mounts), ...renderRows(renders)]))
  console.log(`\ntotal ${((performance.now() - startedAt) / 1000).toFixed(0)} s`)
  if (failed) process.exitCode = 1
}
