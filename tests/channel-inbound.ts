import { expect } from 'vitest'

/**
 * Creates a contact the way a channel does: an inbound message to `httpBase` (a server's http
 * or ws address) signed with a system token; returns the contact's id.
 *
 * @example
 * const id = await inboundContact(server.url, 'demo', await tokenFor('channel-ingest', 'system'), 'v-1')
 */
export async function inboundContact(
  httpBase: string,
  workspace: string,
  systemToken: string,
  visitor: string,
): Promise<string> {
  const response = await fetch(`${httpBase.replace(/^ws/, 'http')}/api/${workspace}/inbound`, {
    method: 'POST',
    headers: { authorization: `Bearer ${systemToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      channel: 'webchat',
      platformUserId: visitor,
      message: { text: `Hello from ${visitor}` },
    }),
  })
  expect(response.status).toBe(200)
  return ((await response.json()) as { contactId: string }).contactId
}
