import { createRoot } from 'react-dom/client'
import type { CardfileClient, LoadSource } from '@cardfile/core'
import { CardfileProvider } from '@cardfile/react'
import { ContactProbe } from './hook-panels'
import { hookClient, PANEL_ATTRIBUTES, untilSettled } from './hook-clients'
import { within } from './stats'

/** One mount: milliseconds from `root.render` to the commit showing the values, and their source. */
export interface MountSample {
  readonly ms: number
  readonly source: LoadSource
}

/** Samples of each way a contact reaches the panel. */
export interface MountResult {
  /**
   * Cached in IndexedDB by an earlier page load; a new client mounts the panel, online: the
   * values come from the local copy or from the server, whichever arrives first.
   */
  readonly cached: MountSample[]
  /** The same with the new client offline: the values can only come from the local copy. */
  readonly cachedOffline: MountSample[]
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

const CASES = ['cached', 'cachedOffline', 'fetched', 'fetchedSchemaOpen'] as const

/** The contact of mount `index` of one case: every mount opens a contact of its own. */
const mountContact = (kind: (typeof CASES)[number], index: number): string =>
  `mount-${kind}-${index}`

/**
 * Every contact `measureMounts` opens for `mounts` mounts per case (warm-up included); the
 * caller seeds them on the server first.
 */
export const mountContacts = (mounts: number): string[] =>
  CASES.flatMap((kind) => Array.from({ length: mounts }, (_, index) => mountContact(kind, index)))

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
 * was torn down; a new client on the same IndexedDB (online, or offline with `online` false)
 * mounts the panel.
 */
async function cachedSample(
  options: MountOptions,
  id: string,
  online: boolean,
): Promise<MountSample> {
  const prefix = `page-${id}`
  const earlier = hookClient(options.url, options.token, prefix)
  const handle = earlier.contact(id)
  try {
    await untilSettled(handle, options.timeoutMs)
  } finally {
    handle.release()
    // Resolves once the IndexedDB copies are flushed and closed.
    await within(earlier.destroy(), options.timeoutMs, 'a client never closed')
  }
  const client = hookClient(options.url, options.token, prefix, { connect: online })
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
  const result: MountResult = { cached: [], cachedOffline: [], fetched: [], fetchedSchemaOpen: [] }
  // One running page with the schema open (and cached) for case (c).
  const running = hookClient(options.url, options.token, 'page-running')
  const schema = running.schema()
  try {
    await within(schema.whenSynced(), options.timeoutMs, 'the schema never synced')
    for (let index = 0; index < total; index++) {
      const cached = await cachedSample(options, mountContact('cached', index), true)
      const offline = await cachedSample(options, mountContact('cachedOffline', index), false)
      const fetched = await fetchedSample(options, mountContact('fetched', index))
      const open = await mountUntilShown(
        running,
        mountContact('fetchedSchemaOpen', index),
        options.timeoutMs,
      )
      if (index < options.warmup) continue
      result.cached.push(cached)
      result.cachedOffline.push(offline)
      result.fetched.push(fetched)
      result.fetchedSchemaOpen.push(open)
    }
    return result
  } finally {
    schema.release()
    await within(running.destroy(), options.timeoutMs, 'a client never closed')
  }
}
