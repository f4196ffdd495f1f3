import { createRoot } from 'react-dom/client'
import type { CardfileClient } from '@cardfile/core'
import { CardfileProvider } from '@cardfile/react'
import { NaivePanel, RenderLog, SelectorPanel } from './hook-panels'
import { PANEL_ATTRIBUTES, until, untilSettled } from './hook-clients'

/** The contact both panels show and the other client edits. */
export const PANEL_CONTACT = 'panel-contact'
/** The one attribute the other client edits. */
export const EDITED_ATTRIBUTE = PANEL_ATTRIBUTES[0] ?? 'field01'

/** Renders during the edits (the mount's renders not counted), per approach. */
export interface PanelRenders {
  readonly editedRow: number
  /** All the other rows together. */
  readonly otherRows: number
  readonly panel: number
}

export interface RenderCountResult {
  readonly edits: number
  /** Rows each panel shows. */
  readonly rows: number
  readonly selector: PanelRenders
  readonly naive: PanelRenders
}

export interface RenderCountOptions {
  /** The client whose panels are rendered. */
  readonly viewer: CardfileClient
  /** Another client (another socket, another user) that makes the edits. */
  readonly writer: CardfileClient
  readonly edits: number
  /** Bound of every wait: the mount, each edit reaching the screen. */
  readonly timeoutMs: number
}

const rendersOf = (log: RenderLog): PanelRenders => {
  let otherRows = 0
  for (const [attribute, count] of log.rows) if (attribute !== EDITED_ATTRIBUTE) otherRows += count
  return { editedRow: log.rows.get(EDITED_ATTRIBUTE) ?? 0, otherRows, panel: log.panel }
}

/**
 * Renders a 50-row panel twice side by side in one React root, with selectors (each row reads
 * its one field, the container reads the ids) and naively (every component reads the whole
 * contact), then has another client set ONE attribute `edits` times, one edit at a time, each
 * waited for until both panels show it. Counts the renders during the edits.
 *
 * @example
 * const result = await measureRenderCounts({ viewer, writer, edits: 100, timeoutMs: 10_000 })
 */
export async function measureRenderCounts(options: RenderCountOptions): Promise<RenderCountResult> {
  const { viewer, writer, edits, timeoutMs } = options
  const selector = new RenderLog()
  const naive = new RenderLog()
  const logs = [selector, naive]
  const subscribe = (listener: () => void): (() => void) => {
    for (const log of logs) log.onShow = listener
    return () => {
      for (const log of logs) log.onShow = null
    }
  }
  const showing = (attribute: string, display: string): boolean =>
    logs.every((log) => log.shown.get(attribute) === display)
  const seeded = (attribute: string): string => `${PANEL_CONTACT} ${attribute}`

  const editor = writer.contact(PANEL_CONTACT)
  // The viewer's own handle keeps its replica open and tells when its load state is settled:
  // a status change re-renders every hook that reports it, which is not what is measured here.
  const watched = viewer.contact(PANEL_CONTACT)
  const container = document.createElement('div')
  document.body.append(container)
  const root = createRoot(container)
  try {
    await untilSettled(editor, timeoutMs)
    root.render(
      <CardfileProvider client={viewer}>
        <SelectorPanel contactId={PANEL_CONTACT} log={selector} />
        <NaivePanel contactId={PANEL_CONTACT} log={naive} />
      </CardfileProvider>,
    )
    await until(
      () => PANEL_ATTRIBUTES.every((attribute) => showing(attribute, seeded(attribute))),
      subscribe,
      timeoutMs,
      'the panels never showed the seeded values',
    )
    await untilSettled(watched, timeoutMs)
    // React commits a store change in a microtask; one macrotask later the mount's last render
    // is committed and counted as the mount's.
    await new Promise((resolve) => setImmediate(resolve))
    for (const log of logs) log.reset()
    for (let edit = 1; edit <= edits; edit++) {
      const display = `edit ${edit}`
      editor.setValue(EDITED_ATTRIBUTE, display)
      await until(
        () => showing(EDITED_ATTRIBUTE, display),
        subscribe,
        timeoutMs,
        `edit ${edit} never reached both panels`,
      )
    }
    return {
      edits,
      rows: selector.shown.size,
      selector: rendersOf(selector),
      naive: rendersOf(naive),
    }
  } finally {
    root.unmount()
    container.remove()
    watched.release()
    editor.release()
  }
}
