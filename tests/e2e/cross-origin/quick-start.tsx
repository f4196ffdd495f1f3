// The README's quick start, as an app on its own origin: only `url` and the token endpoint
// differ, and the VIP group shows that list hooks (HTTP API) work across origins too.
import { createCardfileClient } from '@cardfile/core'
import {
  CardfileProvider,
  useContact,
  useContactGroup,
  useSyncStatus,
  useVip,
} from '@cardfile/react'
import { createRoot } from 'react-dom/client'

const params = new URLSearchParams(window.location.search)
const contactId = params.get('contact') ?? 'c1'

const client = createCardfileClient({
  url: params.get('server') ?? '',
  workspace: 'demo',
  getToken: () => fetch('/my-backend/cardfile-token').then((r) => r.text()),
})

function ContactPanel({ contactId }: { contactId: string }) {
  const { data, found, setValue, error } = useContact(contactId)
  const [isVip, setVip, vip] = useVip(contactId)
  const { saved, status } = useSyncStatus(contactId)
  if (found === null) return <p>Loading…</p>
  if (!found) return <p>No such contact</p>
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
          <input
            defaultValue={f.display ?? ''}
            readOnly={!f.canEdit}
            onBlur={(e) => setValue(f.id, e.target.value)}
          />
        </label>
      ))}
      {error && <p role="alert">{error.message}</p>}
      <small data-testid="status">
        {status === 'offline' ? 'Offline' : saved ? 'Saved' : 'Saving…'}
      </small>
    </aside>
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
