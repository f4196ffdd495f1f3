import { useEffect, useRef, useState } from 'react'
import {
  CardfileError,
  ErrorCodes,
  formatValue,
  normaliseInput,
  selectedIds,
  validateValue,
} from '@cardfile/core'
import type { AttributeType, Presence } from '@cardfile/core'
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

/** The input element each typed attribute edits with (text inputs keep the browser's checks off:
 * the SDK's own sentence says what is wrong, the same one the server would send). */
const INPUT_TYPE: Partial<Record<AttributeType, string>> = {
  date: 'date',
  url: 'url',
  email: 'email',
  phone: 'tel',
}

/** What the keyboard of a phone should offer for a type. */
const INPUT_MODE: Partial<Record<AttributeType, 'decimal' | 'tel' | 'email' | 'url'>> = {
  number: 'decimal',
  phone: 'tel',
  email: 'email',
  url: 'url',
}

/**
 * One attribute of the contact panel: its value, and inline editing for those the user may
 * change (Enter or leaving the field saves, Escape cancels; long text saves with Ctrl+Enter or
 * on leaving; dropdowns, checkboxes and multi-selects save on choice). What a person types is
 * read as the attribute's type first (`normaliseInput`: "12,50" is the number 12.5); a value the
 * definition refuses stays in the box with the reason below it. An empty value shows the
 * attribute's default, marked; the help text shows under the field.
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
  const input = useRef<HTMLInputElement & HTMLTextAreaElement>(null)
  const def = field.attribute

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
    if (trimmed === '') {
      const refused = onClear()
      if (refused !== null) {
        setRefusal(humanMessage(refused))
        return
      }
      setRefusal(null)
      stop()
      return
    }
    const typed = field.type === 'text' ? trimmed : normaliseInput(field.type, trimmed)
    if (typed === null) {
      // Not readable as the type at all: the SDK's check says why, in the server's words.
      const check = validateValue(def, trimmed)
      setRefusal(
        humanMessage(
          check.ok
            ? new CardfileError(ErrorCodes.TypeMismatch, `${field.label} cannot hold "${trimmed}"`)
            : new CardfileError(check.code, check.message),
        ),
      )
      return
    }
    if (typed === (field.value ?? '')) {
      stop()
      return
    }
    const refused = onSave(typed)
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

  const fallback =
    field.value === null && def.rules.default !== null ? formatValue(def, def.rules.default) : null
  const choose = (next: string | null): void => {
    const refused = next === null ? onClear() : onSave(next)
    setRefusal(refused === null ? null : humanMessage(refused))
  }

  let control
  if (field.type === 'checkbox' && field.canEdit) {
    const checked = (field.value ?? def.rules.default) === 'true'
    control = (
      <label className="field-check">
        <input
          type="checkbox"
          aria-labelledby={labelId}
          checked={checked}
          data-testid="field-input"
          onFocus={() => onEditing(true)}
          onBlur={() => onEditing(false)}
          onChange={(event) => choose(event.target.checked ? 'true' : 'false')}
        />
        {field.value === null
          ? fallback === null
            ? 'Not set'
            : `${fallback} (default)`
          : checked
            ? 'Yes'
            : 'No'}
      </label>
    )
  } else if (field.type === 'multiselect' && field.canEdit) {
    const chosen = field.value === null ? [] : selectedIds(field.value)
    // Live options, and retired ones the contact holds (shown so the agent can untick them:
    // a value keeping a retired option is refused).
    const offered = def.options.filter((o) => !o.retired || chosen.includes(o.id))
    control = (
      <fieldset className="field-multi" aria-labelledby={labelId} data-testid="field-input">
        {offered.map((o) => (
          <label key={o.id} className="field-check">
            <input
              type="checkbox"
              checked={chosen.includes(o.id)}
              onFocus={() => onEditing(true)}
              onBlur={() => onEditing(false)}
              onChange={(event) => {
                // Keeps the options' order; an unticked retired option cannot be ticked again.
                const next = offered
                  .map((x) => x.id)
                  .filter((id) => (id === o.id ? event.target.checked : chosen.includes(id)))
                choose(next.length === 0 ? null : next.join(','))
              }}
            />
            {o.label}
            {o.retired ? ' (retired)' : ''}
          </label>
        ))}
      </fieldset>
    )
  } else if (field.type === 'dropdown' && field.canEdit) {
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
  } else if (editing && field.type === 'longtext') {
    control = (
      <textarea
        ref={input}
        className="field-input field-long"
        aria-labelledby={labelId}
        aria-invalid={shownRefusal !== null}
        value={draft}
        rows={5}
        data-testid="field-input"
        onChange={(event) => {
          setDraft(event.target.value)
          setRefusal(null)
        }}
        onBlur={() => commit(draft)}
        onKeyDown={(event) => {
          if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) commit(draft)
          if (event.key === 'Escape') {
            setRefusal(null)
            stop()
          }
        }}
      />
    )
  } else if (editing) {
    control = (
      <input
        ref={input}
        className="field-input"
        type={INPUT_TYPE[field.type] ?? 'text'}
        inputMode={INPUT_MODE[field.type]}
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
        {field.display ?? fallback ?? (field.canEdit ? 'Add…' : '—')}
        {field.display === null && fallback !== null && <span className="tag">default</span>}
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
        {def.rules.required && (
          <span className="tag required" title="Needed before a conversation is resolved">
            required
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
      {def.rules.help !== '' && (
        <p className="field-help" data-testid="field-help">
          {def.rules.help}
        </p>
      )}
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
