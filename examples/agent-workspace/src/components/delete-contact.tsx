import { useState } from 'react'
import { useDeleteContact, useLinkedContacts } from '@cardfile/react'
import { identityOfRow, labelOf } from '../contact-identity'
import { flash } from '../flash-messages'
import { channelLabel } from '../format'
import { humanMessage } from '../human-message'

/** Linked contacts listed in the confirmation (the server deletes the whole group). */
const LINKED_SHOWN = 50

/**
 * "Delete contact" with a confirmation step (admins only), which offers to delete the same
 * person's linked contacts on other channels in the same action, listing them.
 */
export function DeleteContact({
  contactId,
  name,
  onDeleted,
}: {
  contactId: string
  /** Who the contact is, for the question and the confirmation. */
  name: string
  onDeleted: () => void
}) {
  const { deleteContact, pending, error, canDelete } = useDeleteContact()
  const [confirming, setConfirming] = useState(false)
  const [withLinked, setWithLinked] = useState(false)
  if (!canDelete) return null
  return (
    <div className="danger-zone">
      {confirming ? (
        <div className="confirm" role="alertdialog" aria-label="Confirm deletion">
          <p>
            Delete <strong>{name}</strong> for good? Their conversations, messages, attachments and
            attribute values are erased from the server and every agent&rsquo;s device. The deletion
            is recorded in Deleted contacts.
          </p>
          <LinkedChoice contactId={contactId} checked={withLinked} onChange={setWithLinked} />
          <div className="confirm-actions">
            <button
              type="button"
              className="button danger solid"
              disabled={pending}
              data-testid="confirm-delete"
              onClick={() => {
                deleteContact(contactId, { linked: withLinked }).then(
                  (answer) => {
                    flash(
                      answer.linked.length === 0
                        ? `${name} was deleted. The record is in Deleted contacts.`
                        : `${name} and ${answer.linked.length} linked contact${answer.linked.length === 1 ? '' : 's'} were deleted. The records are in Deleted contacts.`,
                    )
                    onDeleted()
                  },
                  () => undefined,
                )
              }}
            >
              {pending ? 'Deleting…' : withLinked ? 'Delete on every channel' : 'Delete contact'}
            </button>
            <button type="button" className="button" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
          {error !== null && (
            <p className="field-error" role="alert">
              {humanMessage(error)}
            </p>
          )}
        </div>
      ) : (
        <button
          type="button"
          className="button danger"
          onClick={() => setConfirming(true)}
          data-testid="delete-contact"
        >
          Delete contact…
        </button>
      )}
    </div>
  )
}

/** The offer to delete the linked contacts too, with the list of who they are. */
function LinkedChoice({
  contactId,
  checked,
  onChange,
}: {
  contactId: string
  checked: boolean
  onChange: (checked: boolean) => void
}) {
  const { items, size, loading } = useLinkedContacts(contactId, {
    pageSize: LINKED_SHOWN,
    pollMs: 0,
  })
  if (loading && items.length === 0) return null
  if (items.length === 0) return null
  const more = Math.max(0, size - 1 - items.length)
  return (
    <div className="linked-choice" data-testid="delete-linked">
      <label>
        <input
          type="checkbox"
          checked={checked}
          onChange={(event) => onChange(event.currentTarget.checked)}
          data-testid="delete-linked-toggle"
        />{' '}
        Also delete the {items.length + more} linked contact{items.length + more === 1 ? '' : 's'}{' '}
        of this person on other channels:
      </label>
      <ul>
        {items.map((c) => (
          <li key={c.id} data-testid="delete-linked-contact">
            {`${labelOf(identityOfRow(c))} · ${channelLabel(c.channel)}`}
          </li>
        ))}
        {more > 0 && <li>and {more} more</li>}
      </ul>
    </div>
  )
}
