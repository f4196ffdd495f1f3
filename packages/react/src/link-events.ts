import type { CardfileClient } from '@cardfile/core'

/**
 * Manual link changes made through this client. Links live in the server's index, not in a
 * document the client syncs, so nothing else would tell the lists on this client that a group
 * changed: {@link useContactLinks} announces its changes here, and the linked-contacts and
 * history lists refresh at once (other clients see them at their next poll).
 */
const listeners = new WeakMap<CardfileClient, Set<() => void>>()

/** Listens to link changes made through this client (internal). */
export function onLinksChanged(client: CardfileClient, listener: () => void): () => void {
  let set = listeners.get(client)
  if (set === undefined) listeners.set(client, (set = new Set()))
  set.add(listener)
  return () => set.delete(listener)
}

/** Tells this client's lists that a link changed (internal). */
export function linksChanged(client: CardfileClient): void {
  for (const listener of [...(listeners.get(client) ?? [])]) listener()
}
