// The README's quick start, as an app on its own origin: only `url` and the token endpoint
// differ, and the VIP group shows that list hooks (HTTP API) work across origins too.
import { createCardfileClient } from '@cardfile/core'
import { useState } from 'react'
import {
  CardfileProvider,
  useContact,
  useContactGroup,
  useSyncStatus,
  useVip,
} from '@cardfile/react'
import type { ContactField } from '@cardfile/react'
import { createRoot } from 'react-dom/client'

const params = new URLSearchParams(window.location.search)
const contactId = params.get('contact') ?? 'c1'

const client = createCardfileClient({
  url: params.get('server') ?? '',
  workspace: 'demo',
  getToken: () => fetch('/my-backend/cardfile-token').then((r) => r.text()),
})

function ContactPanel({ contactId }: { contactId: string }) {
  const { data, found, setValue, clearValue, error } = useContact(contactId)
  const [isVip, setVip, vip] = useVip(contactId)
  const { saved, status } = useSyncStatus(contactId)
  if (found === null) return <p>Loading…</p> // never a false "not found" while the cache loads
  if (!found) return <p>No such contact</p>
  // Mutators throw a CardfileError when refused; the refusal also arrives in `error` below.
  const save = (id: string, value: string) => {
    try {
      if (value === '') clearValue(id)
      else setValue(id, value)
    } catch {
      // shown from `error`
    }
  }
  return (
    <aside>
      {vip.enabled && (
        <button disabled={!vip.canEdit} onClick={() => setVip(!isVip)}>
          {isVip ? 'VIP' : 'Mark VIP'}
        </button>
      )}
      {data.fields.map((f) => (
        <label key={f.id} data-field={f.id}>
          {f.label}
          <FieldInput field={f} onSave={(value) => save(f.id, value)} />
        </label>
      ))}
      {error && <p role="alert">{error.message}</p>}
      <small data-testid="status">
        {status === 'offline' ? 'Offline' : saved ? 'Saved' : 'Saving…'}
      </small>
    </aside>
  )
}

/**
 * Controlled, so another agent's edit shows at once; while the user types, their draft wins,
 * and it is written on blur (one change, not one per keystroke).
 */
function FieldInput({ field, onSave }: { field: ContactField; onSave: (value: string) => void }) {
  const [draft, setDraft] = useState<string | null>(null) // null: not editing
  if (field.type === 'dropdown') {
    return (
      <select
        value={field.value ?? ''}
        disabled={!field.canEdit}
        onChange={(e) => onSave(e.target.value)}
      >
        <option value="">—</option>
        {field.options.map((o) => (
          <option key={o.id} value={o.id}>
            {o.label}
          </option>
        ))}
      </select>
    )
  }
  return (
    <input
      value={draft ?? field.value ?? ''}
      readOnly={!field.canEdit}
      onFocus={() => setDraft(field.value ?? '')}
      onChange={(e) => setDraft(e.target.value)}
      onBlur={() => {
        if (draft !== null && draft !== (field.value ?? '')) onSave(draft)
        setDraft(null)
      }}
    />
  )
}

function VipGroup() {
  const { items, error } = useContactGroup('vip')
  if (error) return <p data-testid="vip-error">{error.code}</p>
  return <p data-testid="vip-count">{items.length}</p>
}

createRoot(document.getElementById('root')!).render(
  <CardfileProvider client={client}>
    <ContactPanel contactId={contactId} />
    <VipGroup />
  </CardfileProvider>,
)
