import { useState } from 'react'
import { useDeleteContact } from '@cardfile/react'
import { flash } from '../flash-messages'
import { humanMessage } from '../human-message'

/** "Delete contact" with a confirmation step (admins only). */
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
          <div className="confirm-actions">
            <button
              type="button"
              className="button danger solid"
              disabled={pending}
              data-testid="confirm-delete"
              onClick={() => {
                deleteContact(contactId).then(
                  () => {
                    flash(`${name} was deleted. The record is in Deleted contacts.`)
                    onDeleted()
                  },
                  () => undefined,
                )
              }}
            >
              {pending ? 'Deleting…' : 'Delete contact'}
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
