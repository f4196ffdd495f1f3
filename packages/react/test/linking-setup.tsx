// Imported first: it makes TextEncoder same-realm for jose under jsdom before jose loads.
import '../../../tests/client/harness'
import { cleanup, render } from '@testing-library/react'
import type { ReactNode } from 'react'
import { afterEach } from 'vitest'
import type { CardfileClient } from '@cardfile/core'
import { CardfileProvider } from '@cardfile/react'
import { startHarness } from '../../server/test/linking-harness'
import type { Harness } from '../../server/test/linking-harness'

/**
 * Set-up shared by the hook tests of linked contacts: the server's linking harness (real server,
 * HTTP API, SDK clients) torn down after each test, and rendering under a client's provider.
 */

/** One inbound message, as the harness ingests it. */
export type InboundMessage = Parameters<Harness['inbound']>[0]

const running: Harness[] = []
afterEach(async () => {
  // Unmount first, so no hook is left talking to a closed server.
  cleanup()
  for (const h of running.splice(0)) await h.close()
})

/** Starts the linking harness for the current test; it is closed after the test. */
export async function startLinkingHarness(): Promise<Harness> {
  const h = await startHarness()
  running.push(h)
  return h
}

/** Renders `ui` under a CardfileProvider of `client`. */
export const renderWithClient = (client: CardfileClient, ui: ReactNode) =>
  render(<CardfileProvider client={client}>{ui}</CardfileProvider>)

/**
 * Ingests one message per named contact, in the order given (later contacts are newer), and
 * resolves each name to its contact id.
 */
export async function inboundEach<Name extends string>(
  h: Harness,
  messages: Record<Name, InboundMessage>,
): Promise<Record<Name, string>> {
  const ids: Partial<Record<Name, string>> = {}
  for (const [name, message] of Object.entries(messages) as [Name, InboundMessage][]) {
    ids[name] = (await h.inbound(message)).contactId
  }
  return ids as Record<Name, string>
}
