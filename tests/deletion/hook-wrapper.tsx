import type { ReactNode } from 'react'
import { cleanup } from '@testing-library/react'
import { afterEach } from 'vitest'
import type { CardfileClient } from '@cardfile/core'
import { CardfileProvider } from '@cardfile/react'

// Whatever a test rendered is unmounted before the harness closes its clients and server.
afterEach(() => cleanup())

/** A `renderHook` wrapper that provides `client` to the hooks under test. */
export const wrapper =
  (client: CardfileClient) =>
  ({ children }: { children: ReactNode }) => (
    <CardfileProvider client={client}>{children}</CardfileProvider>
  )
