import { useLayoutEffect } from 'react'
import type { LoadSource } from '@cardfile/core'
import { useContact } from '@cardfile/react'
import type { ContactField } from '@cardfile/react'

/**
 * The whole contact panel, as an app's first screen of a contact would render it. Calls
 * `onShown` at the first commit whose DOM shows `expected` filled values (a layout effect runs
 * right after React wrote them to the document), with the source the hook reported.
 *
 * @example
 * root.render(<ContactProbe id="c1" expected={50} onShown={(source) => console.log(source)} />)
 */
export function ContactProbe(props: {
  readonly id: string
  readonly expected: number
  readonly onShown: (source: LoadSource) => void
}) {
  const { id, expected, onShown } = props
  const { data, source } = useContact(id)
  const filled = data.fields.filter((field) => field.value !== null).length
  useLayoutEffect(() => {
    if (filled >= expected) onShown(source)
  }, [filled, expected, source, onShown])
  return (
    <ul>
      {data.fields.map((field) => (
        <li key={field.id}>
          {field.label}: {field.display ?? ''}
        </li>
      ))}
    </ul>
  )
}

/**
 * Render counts of one panel: the container's, each row's, and what each row last showed (so
 * the benchmark waits for an edit to be on screen instead of sleeping).
 */
export class RenderLog {
  panel = 0
  readonly rows = new Map<string, number>()
  readonly shown = new Map<string, string | null>()
  /** Called after every row commit; the benchmark's waits listen here. */
  onShow: (() => void) | null = null

  row(attribute: string): void {
    this.rows.set(attribute, (this.rows.get(attribute) ?? 0) + 1)
  }

  show(attribute: string, display: string | null): void {
    this.shown.set(attribute, display)
    this.onShow?.()
  }

  /** Forgets the counts (the mount's renders), keeping what is shown. */
  reset(): void {
    this.panel = 0
    this.rows.clear()
  }
}

const isCustom = (field: ContactField): boolean => field.kind === 'custom'

interface PanelProps {
  readonly contactId: string
  readonly log: RenderLog
}

interface RowProps extends PanelProps {
  readonly attribute: string
}

/** A row that selects its one field's display: it re-renders only when that changes. */
function SelectorRow({ contactId, attribute, log }: RowProps) {
  const { data } = useContact(contactId, {
    select: (contact) => contact.fields.find((field) => field.id === attribute)?.display ?? null,
  })
  log.row(attribute)
  useLayoutEffect(() => log.show(attribute, data), [log, attribute, data])
  return <li>{data ?? ''}</li>
}

/**
 * The panel with selectors: the container selects the custom attribute ids in order, nothing
 * else. (Platform attributes, such as the name or the email, are left out: the benchmark's
 * panel is the 50 custom attributes.)
 */
export function SelectorPanel({ contactId, log }: PanelProps) {
  const { data: ids } = useContact(contactId, {
    select: (contact) => contact.fields.filter(isCustom).map((field) => field.id),
  })
  log.panel++
  return (
    <ul>
      {ids.map((id) => (
        <SelectorRow key={id} contactId={contactId} attribute={id} log={log} />
      ))}
    </ul>
  )
}

/** The naive row: it reads the whole contact and picks its field out in render. */
function NaiveRow({ contactId, attribute, log }: RowProps) {
  const { data } = useContact(contactId)
  const display = data.fields.find((field) => field.id === attribute)?.display ?? null
  log.row(attribute)
  useLayoutEffect(() => log.show(attribute, display), [log, attribute, display])
  return <li>{display ?? ''}</li>
}

/** The naive panel: container and rows all subscribe to the whole contact. */
export function NaivePanel({ contactId, log }: PanelProps) {
  const { data } = useContact(contactId)
  log.panel++
  return (
    <ul>
      {data.fields.filter(isCustom).map((field) => (
        <NaiveRow key={field.id} contactId={contactId} attribute={field.id} log={log} />
      ))}
    </ul>
  )
}
