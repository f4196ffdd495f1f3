import { CardfileError, ErrorCodes, contactDocName } from '@cardfile/core'
import { linkGroup } from '../linking/link-groups'
import { deleteContact } from './delete-contact'
import type { ContactDeletionContext, DeletingAdmin } from './delete-contact'
import type { DeletionRecord } from './deletion-log'

/** What {@link deleteLinkedContacts} erased: the contact, then each linked one. */
export interface LinkedDeletion {
  /** The audit record of the contact asked for. */
  readonly deleted: DeletionRecord
  /** One audit record per linked contact erased with it, newest contact first. */
  readonly linked: readonly DeletionRecord[]
}

/**
 * Deletes a person across channels in one action: the contact and every contact linked to it
 * (by the matching attribute or by hand), as the link group stands before the first erasure
 * (erasing a contact drops its manual links, which could split the group). Each contact is
 * erased as {@link deleteContact} erases one, with its own audit record, purge notices and
 * `contact.erased` event. A linked contact someone else deleted meanwhile is skipped.
 *
 * @throws CardfileError `not-found` for an unknown contact, `deleted` for one already deleted.
 * @example
 * const { deleted, linked } = await deleteLinkedContacts(context, 'demo', 'c1', admin)
 * linked.map((r) => r.channel) // ['whatsapp', 'x']
 */
export async function deleteLinkedContacts(
  context: ContactDeletionContext,
  workspace: string,
  contactId: string,
  admin: DeletingAdmin,
): Promise<LinkedDeletion> {
  if (await context.backend.documents.isErased(contactDocName(workspace, contactId))) {
    // Its index row is gone with it: answer as a single deletion does (`deleted`, after
    // finishing a seal that was cut off).
    return { deleted: await deleteContact(context, workspace, contactId, admin), linked: [] }
  }
  const group = await linkGroup(context.backend.index, context.backend.links, workspace, contactId)
  if (group.truncated) {
    throw new CardfileError(
      ErrorCodes.BadRequest,
      'The contact is linked to more contacts than one deletion erases: delete them one by one',
    )
  }
  const deleted = await deleteContact(context, workspace, contactId, admin)
  const linked: DeletionRecord[] = []
  for (const member of group.members) {
    if (member.id === contactId) continue
    try {
      linked.push(await deleteContact(context, workspace, member.id, admin))
    } catch (error) {
      if (error instanceof CardfileError && error.code === ErrorCodes.Deleted) continue
      if (error instanceof CardfileError && error.code === ErrorCodes.NotFound) continue
      throw error
    }
  }
  return { deleted, linked }
}
