import type { CardfileClient, ContactHandle, SchemaHandle } from '@cardfile/core'

/**
 * Runs `fn` on the contact's open replica (borrowed), or opens it just for the call. Setters use
 * this at call time, so they always act on the current document, never a stale closure.
 */
export function withContact<R>(
  client: CardfileClient,
  id: string,
  fn: (handle: ContactHandle) => R,
): R {
  const borrowed = client.peekContact(id)
  if (borrowed !== null) return fn(borrowed)
  const handle = client.contact(id)
  try {
    return fn(handle)
  } finally {
    handle.release()
  }
}

/** Runs `fn` on the workspace schema (borrowed when open, else opened for the call). */
export function withSchema<R>(client: CardfileClient, fn: (handle: SchemaHandle) => R): R {
  const borrowed = client.peekSchema()
  if (borrowed !== null) return fn(borrowed)
  const handle = client.schema()
  try {
    return fn(handle)
  } finally {
    handle.release()
  }
}
