import { isLoaded, loadFailure } from '@cardfile/core'
import type { CardfileClient, DocHandle } from '@cardfile/core'
import type { DocumentAccess } from './use-document-selector'

/**
 * The Suspense step of the `...Suspense` hooks, run in render: throws the document's load
 * failure (for the nearest error boundary) when it cannot load on its own, throws the
 * client's load promise (for the nearest `<Suspense>`) while it has nothing to show, and
 * returns once it has. The client holds a loading document open, because a suspended
 * component never mounts and so never subscribes.
 */
export function suspendUntilLoaded<H extends DocHandle>(
  client: CardfileClient,
  access: DocumentAccess<H>,
): void {
  const handle = access.peek(client)
  if (handle !== null) {
    const failure = loadFailure(handle)
    if (failure !== null) throw failure
    if (isLoaded(handle)) return
  }
  throw client.preload(access.key)
}
