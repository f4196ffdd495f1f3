import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { httpApi } from '../src/http/create-http-api'
import { startProcessMetrics } from '../src/process-metrics'
import { startServer } from './sync-helpers'

const fixture = fileURLToPath(new URL('./fixtures/serve-and-close.ts', import.meta.url))
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** The unlabelled samples of a Prometheus text exposition, by metric name. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+) (\S+)$/.exec(line)
    if (match?.[1] !== undefined && match[2] !== undefined) out.set(match[1], Number(match[2]))
  }
  return out
}

/** Keeps the event loop busy for `ms` without yielding: a stall the lag monitor must see. */
function block(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // busy on purpose
  }
}

describe('process metrics on /metrics', () => {
  it('exposes event-loop lag, heap, RSS, GC pauses, start time and uptime with sane values', async () => {
    const { server } = await startServer({ httpHandler: httpApi() })
    cleanups.push(() => server.close())
    const scrape = async (): Promise<Map<string, number>> =>
      samples(await (await fetch(`${server.url}/metrics`)).text())

    const first = await scrape()
    const now = Date.now() / 1000
    const start = first.get('process_start_time_seconds') ?? 0
    expect(start).toBeLessThanOrEqual(now)
    expect(start).toBeGreaterThan(now - process.uptime() - 5)
    expect(first.get('process_uptime_seconds')).toBeCloseTo(process.uptime(), -1)
    const heapUsed = first.get('nodejs_heap_size_used_bytes') ?? 0
    const heapTotal = first.get('nodejs_heap_size_total_bytes') ?? 0
    expect(heapUsed).toBeGreaterThan(1_000_000)
    expect(heapUsed).toBeLessThanOrEqual(heapTotal)
    expect(first.get('process_resident_memory_bytes')).toBeGreaterThan(heapUsed)
    expect(first.has('cardfile_connections')).toBe(true)

    // A 300 ms stall shows up as lag of that order in the next scrape.
    await expect
      .poll(async () => {
        block(300)
        await new Promise((resolve) => setTimeout(resolve, 0))
        return (await scrape()).get('nodejs_eventloop_lag_max_seconds') ?? 0
      })
      .toBeGreaterThan(0.2)
    expect((await scrape()).get('nodejs_eventloop_lag_max_seconds')).toBeLessThan(0.2)

    // Garbage makes the collector run; its pauses are counted.
    await expect
      .poll(async () => {
        let kept: unknown[] = []
        for (let i = 0; i < 200_000; i++) kept.push({ i, text: `item ${i}` })
        kept = []
        await new Promise((resolve) => setTimeout(resolve, 0))
        return (await scrape()).get('nodejs_gc_duration_seconds_count') ?? 0
      })
      .toBeGreaterThan(0)
  })

  it('stops collecting when stopped, and stopping twice is harmless', async () => {
    const metrics = startProcessMetrics()
    metrics.render()
    metrics.stop()
    metrics.stop()
    block(150)
    await new Promise((resolve) => setTimeout(resolve, 0))
    const after = samples(metrics.render())
    expect(after.get('nodejs_eventloop_lag_max_seconds')).toBeLessThan(0.1)
    expect(after.get('process_start_time_seconds')).toBeGreaterThan(0)
  })

  it('leaves nothing that keeps the process alive once the server closes', async () => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', fixture], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    cleanups.push(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    await expect.poll(() => output, { timeout: 15_000 }).toContain('closed')
    // Exits by itself: the test times out (and kills it) otherwise.
    expect(await exit).toBe(0)
  })
})
