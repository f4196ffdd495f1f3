/**
 * The server's counters and gauges, rendered in the Prometheus text exposition format. Kept
 * dependency-free: a handful of numbers updated on hot paths, formatted only when scraped.
 */

type Labels = Readonly<Record<string, string>>

const labelKey = (labels: Labels | undefined): string => {
  if (labels === undefined) return ''
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
  return parts.length === 0 ? '' : `{${parts.join(',')}}`
}

/** A monotonically increasing counter, optionally split by labels. */
export class Counter {
  private readonly values = new Map<string, number>()
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(by = 1, labels?: Labels): void {
    const key = labelKey(labels)
    this.values.set(key, (this.values.get(key) ?? 0) + by)
  }

  /** The value for `labels` (the unlabelled series by default). */
  get(labels?: Labels): number {
    return this.values.get(labelKey(labels)) ?? 0
  }

  /** Sum over every label combination. */
  total(): number {
    let sum = 0
    for (const v of this.values.values()) sum += v
    return sum
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`]
    if (this.values.size === 0) lines.push(`${this.name} 0`)
    for (const [key, v] of this.values) lines.push(`${this.name}${key} ${v}`)
    return lines.join('\n')
  }
}

/** A value that goes up and down. */
export class Gauge {
  private value = 0
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(by = 1): void {
    this.value += by
  }
  dec(by = 1): void {
    this.value -= by
  }
  set(value: number): void {
    this.value = value
  }
  get(): number {
    return this.value
  }

  render(): string {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} gauge`,
      `${this.name} ${this.value}`,
    ].join('\n')
  }
}

/** A histogram with fixed buckets (upper bounds in the observed unit). */
export class Histogram {
  private readonly counts: number[]
  private sum = 0
  private count = 0
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {
    this.counts = buckets.map(() => 0)
  }

  observe(value: number): void {
    this.sum += value
    this.count += 1
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= (this.buckets[i] ?? Infinity)) this.counts[i] = (this.counts[i] ?? 0) + 1
    }
  }

  /** Number of observations so far. */
  observations(): number {
    return this.count
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`]
    this.buckets.forEach((le, i) => {
      lines.push(`${this.name}_bucket{le="${le}"} ${this.counts[i] ?? 0}`)
    })
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`)
    lines.push(`${this.name}_sum ${this.sum}`)
    lines.push(`${this.name}_count ${this.count}`)
    return lines.join('\n')
  }
}

/** Metrics rendered beside the server's own, such as the process's (see `process-metrics.ts`). */
export interface MetricsCollector {
  /** Prometheus text exposition, without a trailing newline. */
  render(): string
}

/** Options of {@link createServerMetrics}. */
export interface ServerMetricsOptions {
  /** Rendered after the server's metrics on every scrape. */
  readonly collectors?: readonly MetricsCollector[]
}

/** Every metric the sync engine keeps. */
export interface ServerMetrics {
  readonly connections: Gauge
  readonly connectionsTotal: Counter
  /** Sockets dropped on arrival because too many were still unauthenticated. */
  readonly socketsRefused: Counter
  /** Documents open on multiplexed sockets (channels; each socket counts once in `connections`). */
  readonly channels: Gauge
  /** Closes by close code (label `code`); a multiplexed socket's channels count theirs too. */
  readonly closes: Counter
  readonly documentsLoaded: Gauge
  readonly documentLoads: Counter
  readonly documentUnloads: Counter
  /** Updates received from clients and applied. */
  readonly updatesReceived: Counter
  /** Merged updates committed to storage (client changes, compensations, server changes). */
  readonly updatesCommitted: Counter
  /** Refused changes by error code (label `code`). */
  readonly refusals: Counter
  readonly awarenessUpdates: Counter
  readonly bytesReceived: Counter
  readonly bytesSent: Counter
  /** Seconds from handing an update to storage until its commit resolved. */
  readonly commitLatency: Histogram
  readonly commitFailures: Counter
  /** CRM outbox deliveries by event (label `event`: queued, sent, retried, dead). */
  readonly crmDeliveries: Counter
  /** CRM lookups by outcome (label `outcome`: found, not-found, refused, failed). */
  readonly crmLookups: Counter
  /** Seconds from queuing a CRM delivery until the CRM accepted it, retries included. */
  readonly crmDeliveryLatency: Histogram
  /** Prometheus text exposition of all of the above. */
  render(): string
}

/**
 * Creates the metrics object the server updates; `render()` gives the Prometheus text format.
 *
 * @example
 * const metrics = createServerMetrics()
 * metrics.refusals.inc(1, { code: 'not-an-option' })
 * res.end(metrics.render())
 */
export function createServerMetrics(options: ServerMetricsOptions = {}): ServerMetrics {
  const metrics = {
    connections: new Gauge('cardfile_connections', 'Open websocket connections'),
    connectionsTotal: new Counter('cardfile_connections_total', 'Websocket connections accepted'),
    socketsRefused: new Counter(
      'cardfile_sockets_refused_total',
      'Sockets dropped on arrival: too many connections had not yet authenticated',
    ),
    channels: new Gauge('cardfile_channels', 'Documents open on multiplexed sockets'),
    closes: new Counter('cardfile_connection_closes_total', 'Connections closed, by close code'),
    documentsLoaded: new Gauge('cardfile_documents_loaded', 'Documents held in memory'),
    documentLoads: new Counter('cardfile_document_loads_total', 'Documents loaded from storage'),
    documentUnloads: new Counter('cardfile_document_unloads_total', 'Documents unloaded'),
    updatesReceived: new Counter('cardfile_updates_received_total', 'Updates received'),
    updatesCommitted: new Counter('cardfile_updates_committed_total', 'Updates committed'),
    refusals: new Counter('cardfile_refusals_total', 'Refused changes, by error code'),
    awarenessUpdates: new Counter('cardfile_awareness_updates_total', 'Awareness updates'),
    bytesReceived: new Counter('cardfile_bytes_received_total', 'Websocket bytes received'),
    bytesSent: new Counter('cardfile_bytes_sent_total', 'Websocket bytes sent'),
    commitLatency: new Histogram(
      'cardfile_commit_latency_seconds',
      'Time from handing an update to storage until its commit',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    ),
    commitFailures: new Counter('cardfile_commit_failures_total', 'Storage commits that failed'),
    crmDeliveries: new Counter(
      'cardfile_crm_deliveries_total',
      'CRM outbox deliveries, by event (queued, sent, retried, dead)',
    ),
    crmLookups: new Counter('cardfile_crm_lookups_total', 'CRM lookups, by outcome'),
    crmDeliveryLatency: new Histogram(
      'cardfile_crm_delivery_latency_seconds',
      'Time from queuing a CRM delivery until the CRM accepted it, retries included',
      [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600],
    ),
  }
  return {
    ...metrics,
    render: () =>
      [...Object.values(metrics), ...(options.collectors ?? [])].map((m) => m.render()).join('\n') +
      '\n',
  }
}
