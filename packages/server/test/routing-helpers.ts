import { expect } from 'vitest'
import type { CardfileClient } from '@cardfile/core'
import type { Harness } from './linking-harness'

/** A conversation as agents list it over HTTP. */
export interface ConversationRow {
  id: string
  team: string | null
  priority: number
  status: string
}

/** The conversation `id` from the newest 200 an agent lists (undefined when absent). */
export async function listedConversation(
  h: Harness,
  id: string,
): Promise<ConversationRow | undefined> {
  const { json } = await h.api('agent', 'GET', `/conversations?order=newest&limit=200`)
  return (json.items as ConversationRow[]).find((r) => r.id === id)
}

/** Changes workspace settings through `client`'s schema document and waits until they hold. */
export async function updateSettings(
  client: CardfileClient,
  patch: Record<string, unknown>,
): Promise<void> {
  const schema = client.schema()
  await schema.whenSynced()
  schema.schema.updateSettings(patch)
  await expect
    .poll(() =>
      Object.entries(patch).every(([k, v]) => schema.schema.settings()[k as 'vipTeam'] === v),
    )
    .toBe(true)
  schema.release()
}

/** Marks a contact VIP (or not) through `client`. */
export async function setVip(
  client: CardfileClient,
  contactId: string,
  vip: boolean,
): Promise<void> {
  const contact = client.contact(contactId)
  await contact.whenSynced()
  contact.setVip(vip)
  contact.release()
}
