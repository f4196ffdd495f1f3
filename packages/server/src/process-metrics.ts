import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks'
import type { IntervalHistogram } from 'node:perf_hooks'
import { Histogram } from './metrics'
import type { MetricsCollector } from './metrics'

/**
 * Metrics of the Node process beside the server's own: event-loop lag, heap and resident
 * memory, garbage-collection pauses, start time and uptime. Names follow the Prometheus client
 * conventions (`process_*`, `nodejs_*`) so stock dashboards read them. Own code rather than
 * prom-client: metrics.ts is dependency-free on purpose, and prom-client's default collectors
 * register on a process-wide registry, which two servers in one process would share.
 */

/** Process metrics that collect until stopped. */
export interface ProcessMetrics extends MetricsCollector {
  /** Stops the event-loop monitor and the GC observer; idempotent. */
  stop(): void
}

const NS_PER_SECOND = 1e9

/** When this process started, in seconds since the epoch (fixed for the process's life). */
const processStartSeconds = (): number => (Date.now() - process.uptime() * 1000) / 1000

const gauge = (name: string, help: string, value: number): string =>
  [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`].join('\n')

const lagGauges = (delay: IntervalHistogram): string => {
  // Before the first sample the histogram reports its sentinel values; show zero instead.
  const seconds = (ns: number): number =>
    delay.count === 0 || !Number.isFinite(ns) ? 0 : ns / NS_PER_SECOND
  return [
    gauge(
      'nodejs_eventloop_lag_mean_seconds',
      'Mean event-loop delay since the last scrape',
      seconds(delay.mean),
    ),
    gauge(
      'nodejs_eventloop_lag_p50_seconds',
      'Median event-loop delay since the last scrape',
      seconds(delay.percentile(50)),
    ),
    gauge(
      'nodejs_eventloop_lag_p99_seconds',
      '99th percentile event-loop delay since the last scrape',
      seconds(delay.percentile(99)),
    ),
    gauge(
      'nodejs_eventloop_lag_max_seconds',
      'Largest event-loop delay since the last scrape',
      seconds(delay.max),
    ),
  ].join('\n')
}

/**
 * Starts collecting process metrics; `render()` gives their Prometheus text, `stop()` ends the
 * collection (the server calls it on close, so nothing keeps the process alive).
 *
 * @example
 * const processMetrics = startProcessMetrics()
 * const metrics = createServerMetrics({ collectors: [processMetrics] })
 * // on shutdown
 * processMetrics.stop()
 */
export function startProcessMetrics(): ProcessMetrics {
  const startSeconds = processStartSeconds()
  // 20 ms resolution: fine enough for lag worth alerting on, cheap enough to leave on.
  const delay = monitorEventLoopDelay({ resolution: 20 })
  delay.enable()
  const gcPauses = new Histogram(
    'nodejs_gc_duration_seconds',
    'Garbage collection pauses',
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  )
  let gcObserver: PerformanceObserver | null = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcPauses.observe(entry.duration / 1000)
  })
  gcObserver.observe({ entryTypes: ['gc'] })
  let stopped = false

  return {
    render: () => {
      const memory = process.memoryUsage()
      const text = [
        gauge('process_start_time_seconds', 'Start time of the process', startSeconds),
        gauge('process_uptime_seconds', 'Seconds since the process started', process.uptime()),
        gauge('process_resident_memory_bytes', 'Resident set size', memory.rss),
        gauge('nodejs_heap_size_used_bytes', 'V8 heap in use', memory.heapUsed),
        gauge('nodejs_heap_size_total_bytes', 'V8 heap allocated', memory.heapTotal),
        lagGauges(delay),
        gcPauses.render(),
      ].join('\n')
      // Each scrape reports the lag since the one before, so a past stall does not linger.
      if (!stopped) delay.reset()
      return text
    },
    stop: () => {
      if (stopped) return
      stopped = true
      delay.disable()
      gcObserver?.disconnect()
      gcObserver = null
    },
  }
}
