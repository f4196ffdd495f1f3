import { useState } from 'react'
import type { AttributeChange, DropdownOption } from '@cardfile/core'
import { useAttributeHistory } from '@cardfile/react'
import { ago, clockTime } from '../format'
import { humanMessage } from '../human-message'

const WHO: Record<string, string> = {
  admin: 'admin',
  agent: 'agent',
  bot: 'virtual agent',
  crm: 'CRM',
  system: 'channel',
}

/** Changes shown per page of the disclosure. */
const PAGE = 10

/**
 * A small "History" disclosure under an attribute of the contact panel: who changed the value,
 * when, and from what. It loads only while open.
 */
export function ValueHistory({
  contactId,
  attributeId,
  options = [],
}: {
  contactId: string
  attributeId: string
  /** A dropdown's options, to show labels rather than option ids. */
  options?: readonly DropdownOption[]
}) {
  const [open, setOpen] = useState(false)
  const { items, loading, error, hasMore, loadMore } = useAttributeHistory(
    contactId,
    open ? attributeId : null,
    { pageSize: PAGE },
  )
  const shown = (value: AttributeChange['value']): string => {
    if (value === null) return 'empty'
    if (typeof value === 'boolean') return value ? 'on' : 'off'
    return options.find((o) => o.id === value)?.label ?? value
  }
  return (
    <details
      className="value-history"
      data-testid="value-history"
      onToggle={(event) => setOpen(event.currentTarget.open)}
    >
      <summary>History</summary>
      {error !== null && <p className="field-error">{humanMessage(error)}</p>}
      {loading && items.length === 0 && <p className="muted">Loading…</p>}
      {!loading && error === null && items.length === 0 && <p className="muted">No changes yet.</p>}
      <ol>
        {items.map((change) => (
          <li key={change.id} data-testid="value-change" title={clockTime(change.at)}>
            <span className="change-values">
              {shown(change.previous)} → {shown(change.value)}
            </span>{' '}
            <span className="muted">
              by {change.by.userId} ({WHO[change.by.role] ?? change.by.role}), {ago(change.at)}
            </span>
          </li>
        ))}
      </ol>
      {hasMore && (
        <button type="button" className="button small ghost" onClick={loadMore} disabled={loading}>
          Older changes
        </button>
      )}
    </details>
  )
}
