import { useEffect, useRef, useState } from 'react'
import type { CardfileError, Presence } from '@cardfile/core'
import type { ContactField } from '@cardfile/react'
import { ago } from '../format'
import { humanMessage } from '../human-message'
import { ValueHistory } from './value-history'

const PROVENANCE: Record<string, string> = {
  admin: 'admin',
  agent: 'agent',
  bot: 'virtual agent',
  crm: 'CRM',
  system: 'channel',
}

/**
 * One attribute of the contact panel: its value, and inline editing for those the user may
 * change (Enter or leaving the field saves, Escape cancels; dropdowns save on choice). A value
 * the definition refuses stays in the box with the reason below it.
 */
export function AttributeField({
  contactId,
  field,
  editors,
  serverRefusal,
  onSave,
  onClear,
  onEditing,
}: {
  contactId: string
  field: ContactField
  /** Others editing this field right now. */
  editors: readonly Presence[]
  /** The server's latest refusal of this field, if any. */
  serverRefusal: CardfileError | null
  onSave: (value: string) => CardfileError | null
  onClear: () => CardfileError | null
  onEditing: (editing: boolean) => void
}) {
  const [editing, setEditing] = useState(false)
  const [draft, setDraft] = useState('')
  const [refusal, setRefusal] = useState<string | null>(null)
  const input = useRef<HTMLInputElement>(null)

  useEffect(() => {
    if (editing) input.current?.focus()
  }, [editing])

  const start = (): void => {
    if (!field.canEdit) return
    setDraft(field.value ?? '')
    setRefusal(null)
    setEditing(true)
    onEditing(true)
  }
  const stop = (): void => {
    setEditing(false)
    onEditing(false)
  }
  const commit = (value: string): void => {
    const trimmed = value.trim()
    if (trimmed === (field.value ?? '')) {
      stop()
      return
    }
    const refused = trimmed === '' ? onClear() : onSave(trimmed)
    if (refused !== null) {
      setRefusal(humanMessage(refused))
      return
    }
    setRefusal(null)
    stop()
  }

  const labelId = `attr-label-${field.id}`
  const shownRefusal = refusal ?? (serverRefusal === null ? null : humanMessage(serverRefusal))
  const by = field.provenance
  const title =
    by === null
      ? undefined
      : `Set by ${by.userId} (${PROVENANCE[by.role] ?? by.role}) ${ago(by.at)}`

  let control
  if (field.type === 'dropdown' && field.canEdit) {
    control = (
      <select
        className="field-select"
        aria-labelledby={labelId}
        value={field.value ?? ''}
        data-testid="field-input"
        onFocus={() => onEditing(true)}
        onBlur={() => onEditing(false)}
        onChange={(event) => {
          const next = event.target.value
          const refused = next === '' ? onClear() : onSave(next)
          setRefusal(refused === null ? null : humanMessage(refused))
        }}
      >
        <option value="">—</option>
        {field.options.map((o) => (
          <option key={o.id} value={o.id}>
            {o.label}
            {o.retired ? ' (retired)' : ''}
          </option>
        ))}
      </select>
    )
  } else if (editing) {
    control = (
      <input
        ref={input}
        className="field-input"
        aria-labelledby={labelId}
        aria-invalid={shownRefusal !== null}
        value={draft}
        data-testid="field-input"
        onChange={(event) => {
          setDraft(event.target.value)
          setRefusal(null)
        }}
        onBlur={() => commit(draft)}
        onKeyDown={(event) => {
          if (event.key === 'Enter') commit(draft)
          if (event.key === 'Escape') {
            setRefusal(null)
            stop()
          }
        }}
      />
    )
  } else {
    control = (
      <button
        type="button"
        className={`field-value${field.canEdit ? ' editable' : ''}${field.display === null ? ' empty' : ''}`}
        aria-labelledby={labelId}
        disabled={!field.canEdit}
        onClick={start}
        data-testid="field-value"
        title={title}
      >
        {field.display ?? (field.canEdit ? 'Add…' : '—')}
        {field.retiredOption && <span className="tag">retired option</span>}
      </button>
    )
  }

  return (
    <li
      className={`field${editors.length > 0 ? ' being-edited' : ''}`}
      data-testid="attribute-row"
      data-attribute-id={field.id}
    >
      <div className="field-head">
        <span className="field-label" id={labelId}>
          {field.label}
        </span>
        {field.kind === 'platform' && (
          <span className="tag" title="Filled from the channel; read-only">
            channel
          </span>
        )}
        {field.crmManaged && (
          <span className="tag crm" title="The CRM is the source of truth">
            CRM
          </span>
        )}
        {editors.length > 0 && (
          <span className="editing-by" data-testid="editing-by">
            {editors.map((e) => e.name).join(', ')} editing…
          </span>
        )}
      </div>
      {control}
      {shownRefusal !== null && (
        <p className="field-error" role="alert" data-testid="field-error">
          {shownRefusal}
        </p>
      )}
      <ValueHistory
        contactId={contactId}
        attributeId={field.id}
        options={field.attribute.options}
      />
    </li>
  )
}
