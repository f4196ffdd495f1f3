import { useCallback } from 'react'
import { CardfileError } from '@cardfile/core'
import type { ChannelId, Presence } from '@cardfile/core'
import { useContact, usePresence, useSyncStatus, useUndo, useVip } from '@cardfile/react'
import { displayName, handleUnderName, identityOf, platformValuesOf } from '../contact-identity'
import { channelLabel, clockTime, initials } from '../format'
import { AttributeField } from './attribute-field'
import { ChannelIcon } from './channel-icon'
import { ContactHistory } from './contact-history'
import { CrmStatusLine } from './crm-status'
import { DeleteContact } from './delete-contact'
import { LinkedContacts } from './linked-contacts'
import { StarIcon } from './icons'
import { VipField } from './vip-field'
import { humanMessage } from '../human-message'

/** Runs a Cardfile mutator (they throw when refused) and returns the refusal, or null. */
const refusalOf = (write: () => void): CardfileError | null => {
  try {
    write()
    return null
  } catch (error) {
    if (error instanceof CardfileError) return error
    throw error
  }
}

/** Conversations per page of the history: the panel is narrow and the attributes come first. */
const HISTORY_PAGE = 5

/** "Saving…", "Saved" or "Offline", from the server's durable acknowledgements. */
function SaveStatus({ contactId }: { contactId: string }) {
  const { status, saved, pending } = useSyncStatus(contactId)
  const state = status === 'offline' ? 'offline' : saved ? 'saved' : 'saving'
  const text =
    state === 'offline'
      ? pending > 0
        ? `Offline · ${pending} change${pending === 1 ? '' : 's'} kept on this device`
        : 'Offline'
      : state === 'saved'
        ? 'Saved'
        : 'Saving…'
  return (
    <span className={`save-status save-${state}`} data-testid="save-status" data-state={state}>
      <span className="dot" aria-hidden="true" />
      {text}
    </span>
  )
}

/** Everyone else on this contact, one avatar per person. */
function PresenceList({ others }: { others: readonly Presence[] }) {
  const people = [...new Map(others.map((p) => [p.userId, p])).values()]
  if (people.length === 0) return null
  return (
    <div className="presence" data-testid="presence" aria-label="Also here">
      {people.map((p) => (
        <span
          key={p.userId}
          className={`avatar avatar-small avatar-${p.userId}`}
          title={`${p.name} is ${p.editing === null ? 'viewing' : 'editing'} this contact`}
          data-testid="presence-user"
          data-user-id={p.userId}
        >
          {initials(p.name)}
        </span>
      ))}
      <span className="muted small">
        {people.map((p) => p.name).join(', ')} {people.length === 1 ? 'is' : 'are'} here
      </span>
    </div>
  )
}

/**
 * The right-hand panel: who the contact is, CRM status, their attributes, VIP, presence, the
 * contacts linked to them on other channels and the cross-channel history.
 */
export function ContactPanel({
  contactId,
  channel,
  conversationId,
  onChanged,
  onDeleted,
}: {
  contactId: string
  channel: ChannelId
  /** The conversation open beside the panel. */
  conversationId: string | null
  onChanged: () => void
  onDeleted: () => void
}) {
  const { data, found, error, setValue, clearValue } = useContact(contactId, { channel })
  const [isVip, setVip, vip] = useVip(contactId)
  const { others, setEditing } = usePresence(contactId)
  const { canUndo, canRedo, undo, redo } = useUndo(contactId)

  const editingField = useCallback(
    (fieldId: string) => (editing: boolean) => setEditing(editing ? `custom:${fieldId}` : null),
    [setEditing],
  )

  if (found === null) return <p className="muted pad">Loading contact…</p>
  if (!found) return <p className="muted pad">This contact no longer exists.</p>

  const profile = data.profile
  const identity =
    profile === null
      ? null
      : identityOf(profile.channel, profile.platformUserId, platformValuesOf(data.fields))
  const name = identity === null ? 'Contact' : displayName(identity)
  const handle = handleUnderName(identity)
  const refusalFor = (id: string) =>
    error !== null && error.field === `custom:${id}` ? error : null
  const otherRefusal =
    error !== null && (error.field === undefined || !error.field.startsWith('custom:'))
      ? error
      : null

  return (
    <div className="contact-panel" data-testid="contact-panel" data-contact-id={contactId}>
      <header className="contact-header">
        <span className="avatar avatar-large" data-testid="contact-avatar">
          {initials(name)}
        </span>
        <div className="contact-identity">
          <h2 data-testid="contact-name">{name}</h2>
          {handle !== null && (
            <span className="contact-handle" data-testid="contact-handle">
              {handle}
            </span>
          )}
          {profile !== null && (
            <span className="muted">
              <ChannelIcon channel={profile.channel} /> {channelLabel(profile.channel)} · since{' '}
              {clockTime(profile.createdAt)}
            </span>
          )}
        </div>
        {vip.enabled && (
          <button
            type="button"
            className={`vip-button${isVip ? ' on' : ''}`}
            aria-pressed={isVip}
            disabled={!vip.canEdit}
            data-testid="vip-toggle"
            onClick={() => {
              if (refusalOf(() => setVip(!isVip)) === null) onChanged()
            }}
            title={isVip ? 'Remove VIP' : 'Mark as VIP'}
          >
            <StarIcon filled={isVip} size={14} /> {isVip ? 'VIP' : 'Mark VIP'}
          </button>
        )}
      </header>

      <div className="panel-toolbar">
        <SaveStatus contactId={contactId} />
        <div className="toolbar-buttons">
          <button type="button" className="button small ghost" disabled={!canUndo} onClick={undo}>
            Undo
          </button>
          <button type="button" className="button small ghost" disabled={!canRedo} onClick={redo}>
            Redo
          </button>
        </div>
      </div>
      <PresenceList others={others} />
      <CrmStatusLine contactId={contactId} fields={data.fields} />

      {otherRefusal !== null && (
        <p className="notice error" role="alert">
          {humanMessage(otherRefusal)}
        </p>
      )}

      <h3 className="panel-section">Attributes</h3>
      <ul className="fields" data-testid="attributes">
        {data.fields.map((field) =>
          field.kind === 'standard' ? (
            <VipField
              key={field.id}
              field={field}
              isVip={isVip}
              canEdit={vip.canEdit}
              onToggle={(next) => {
                if (refusalOf(() => setVip(next)) === null) onChanged()
              }}
            />
          ) : (
            <AttributeField
              key={field.id}
              contactId={contactId}
              field={field}
              editors={others.filter((p) => p.editing === `custom:${field.id}`)}
              serverRefusal={refusalFor(field.id)}
              onSave={(value) => refusalOf(() => setValue(field.id, value))}
              onClear={() => refusalOf(() => clearValue(field.id))}
              onEditing={editingField(field.id)}
            />
          ),
        )}
      </ul>
      <LinkedContacts contactId={contactId} />
      <ContactHistory
        contactId={contactId}
        conversationId={conversationId}
        pageSize={HISTORY_PAGE}
      />
      <DeleteContact contactId={contactId} name={name} onDeleted={onDeleted} />
    </div>
  )
}
