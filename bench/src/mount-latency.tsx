import { createRoot } from 'react-dom/client'
import type { CardfileClient, LoadSource } from '@cardfile/core'
import { CardfileProvider } from '@cardfile/react'
import { ContactProbe } from './hook-panels'
import { hookClient, PANEL_ATTRIBUTES, untilSyncedAndSaved } from './hook-clients'
import { within } from './stats'

/** One mount: milliseconds from `root.render` to the commit showing the values, and their source. */
export interface MountSample {
  readonly ms: number
  readonly source: LoadSource
}

/** Samples of each way a contact reaches the panel. */
export interface MountResult {
  /** Cached in IndexedDB by an earlier page load; a new client mounts the panel. */
  readonly cached: MountSample[]
  /** Empty cache: a new client fetches the schema and the contact from the server. */
  readonly fetched: MountSample[]
  /** A running client with the schema open mounts a contact it has not cached. */
  readonly fetchedSchemaOpen: MountSample[]
}

export interface MountOptions {
  readonly url: string
  readonly token: string
  /** Measured samples per case, after `warmup` unmeasured ones. */
  readonly samples: number
  readonly warmup: number
  /** Bound of every wait (a mount, a sync, a teardown). */
  readonly timeoutMs: number
}

/** Contact ids of each case, one contact per mount; the caller seeds them on the server. */
export const mountContacts = (kind: keyof MountResult, count: number): string[] =>
  Array.from({ length: count }, (_, index) => `mount-${kind}-${index}`)

/**
 * Mounts the full contact panel for `id` in a fresh React root and resolves with the time from
 * `root.render` to the first commit showing every panel value. The root is unmounted after.
 */
async function mountUntilShown(
  client: CardfileClient,
  id: string,
  timeoutMs: number,
): Promise<MountSample> {
  const container = document.createElement('div')
  document.body.append(container)
  const root = createRoot(container)
  let shownAt = 0
  let report: (source: LoadSource) => void = () => undefined
  const shown = new Promise<LoadSource>((resolve) => {
    report = resolve
  })
  const onShown = (source: LoadSource): void => {
    if (shownAt !== 0) return
    shownAt = performance.now()
    report(source)
  }
  const startedAt = performance.now()
  root.render(
    <CardfileProvider client={client}>
      <ContactProbe id={id} expected={PANEL_ATTRIBUTES.length} onShown={onShown} />
    </CardfileProvider>,
  )
  try {
    const source = await within(shown, timeoutMs, `contact ${id} never showed its values`)
    return { ms: shownAt - startedAt, source }
  } finally {
    root.unmount()
    container.remove()
  }
}

/**
 * Case (a): an earlier page load opened the contact, synced it and saved it to IndexedDB, and
 * was torn down; a new client on the same IndexedDB mounts the panel.
 */
async function cachedSample(options: MountOptions, id: string): Promise<MountSample> {
  const prefix = `page-${id}`
  const earlier = hookClient(options.url, options.token, prefix)
  const handle = earlier.contact(id)
  try {
    await untilSyncedAndSaved(handle, options.timeoutMs)
  } finally {
    handle.release()
    // Resolves once the IndexedDB copies are flushed and closed.
    await within(earlier.destroy(), options.timeoutMs, 'a client never closed')
  }
  const client = hookClient(options.url, options.token, prefix)
  try {
    return await mountUntilShown(client, id, options.timeoutMs)
  } finally {
    await within(client.destroy(), options.timeoutMs, 'a client never closed')
  }
}

/** Case (b): a first page load with an empty IndexedDB: schema and contact come from the server. */
async function fetchedSample(options: MountOptions, id: string): Promise<MountSample> {
  const client = hookClient(options.url, options.token, `page-${id}`)
  try {
    return await mountUntilShown(client, id, options.timeoutMs)
  } finally {
    await within(client.destroy(), options.timeoutMs, 'a client never closed')
  }
}

/**
 * Measures the time from `useContact` mount to the first render showing the contact's values,
 * the cases interleaved so drift in the machine's load affects them alike. Warm-up mounts (JIT,
 * first-use code paths) are not counted.
 *
 * @example
 * const result = await measureMounts({ url, token, samples: 30, warmup: 3, timeoutMs: 10_000 })
 */
export async function measureMounts(options: MountOptions): Promise<MountResult> {
  const total = options.samples + options.warmup
  const ids = {
    cached: mountContacts('cached', total),
    fetched: mountContacts('fetched', total),
    fetchedSchemaOpen: mountContacts('fetchedSchemaOpen', total),
  }
  const result: MountResult = { cached: [], fetched: [], fetchedSchemaOpen: [] }
  // One running page with the schema open (and cached) for case (c).
  const running = hookClient(options.url, options.token, 'page-running')
  const schema = running.schema()
  try {
    await within(schema.whenSynced(), options.timeoutMs, 'the schema never synced')
    for (let index = 0; index < total; index++) {
      const measured = index >= options.warmup
      const cached = await cachedSample(options, ids.cached[index] ?? '')
      const fetched = await fetchedSample(options, ids.fetched[index] ?? '')
      const open = await mountUntilShown(
        running,
        ids.fetchedSchemaOpen[index] ?? '',
        options.timeoutMs,
      )
      if (!measured) continue
      result.cached.push(cached)
      result.fetched.push(fetched)
      result.fetchedSchemaOpen.push(open)
    }
    return result
  } finally {
    schema.release()
    await within(running.destroy(), options.timeoutMs, 'a client never closed')
  }
}
