import { CardfileError, ErrorCodes } from '../errors'
import type { ContactHandle, DocHandle } from './handles'

/**
 * Whether a handle has something to show: content from the device's copy, or the server's
 * state (which may be an empty document). A contact also needs its schema, or its fields could
 * not be read.
 *
 * @example
 * const contact = client.contact('c1')
 * contact.subscribe(() => {
 *   if (isLoaded(contact)) render(contact.read())
 * })
 */
export function isLoaded(handle: DocHandle): boolean {
  if (handle.status().source === 'none') return false
  const schema = (handle as Partial<ContactHandle>).schemaHandle
  return schema === undefined || schema.status().source !== 'none'
}

/**
 * Why a handle will not load without the app stepping in, or null while loading can still
 * succeed on its own: the document was deleted, the token was refused (or none could be
 * fetched), or the server forbade the document. Transient failures (a dropped connection, a
 * refused edit) return null.
 *
 * @example
 * const failure = loadFailure(handle)
 * if (failure !== null) showError(failure.code)
 */
export function loadFailure(handle: DocHandle): CardfileError | null {
  const handles: DocHandle[] = [handle]
  const schema = (handle as Partial<ContactHandle>).schemaHandle
  if (schema !== undefined) handles.push(schema)
  for (const h of handles) {
    const status = h.status()
    const error = h.error()
    if (status.purged)
      return error ?? new CardfileError(ErrorCodes.Deleted, `${h.name} was deleted`)
    if (status.needsToken) {
      return error ?? new CardfileError(ErrorCodes.Unauthorized, 'The access token was refused')
    }
    if (error?.code === ErrorCodes.Forbidden && status.status === 'offline') return error
  }
  return null
}
