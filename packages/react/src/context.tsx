import { createContext, useContext } from 'react'
import type { ReactNode } from 'react'
import type { CardfileClient } from '@cardfile/core'
import { CardfileError, ErrorCodes } from '@cardfile/core'

const ClientContext = createContext<CardfileClient | null>(null)

/** Props of {@link CardfileProvider}. */
export interface CardfileProviderProps {
  readonly client: CardfileClient
  readonly children?: ReactNode
}

/**
 * Makes a Cardfile client available to the hooks below it. The provider does not own the
 * client: create it once (outside render) and destroy it when the app goes away.
 *
 * @example
 * const client = createCardfileClient({ url, workspace: 'demo', getToken })
 * root.render(
 *   <CardfileProvider client={client}>
 *     <ContactPanel contactId="c1" />
 *   </CardfileProvider>,
 * )
 */
export function CardfileProvider({ client, children }: CardfileProviderProps) {
  return <ClientContext.Provider value={client}>{children}</ClientContext.Provider>
}

/**
 * The client given to the nearest {@link CardfileProvider}.
 *
 * @example
 * const client = useCardfileClient()
 * const onLogout = () => client.destroy()
 */
export function useCardfileClient(): CardfileClient {
  const client = useContext(ClientContext)
  if (client === null) {
    throw new CardfileError(ErrorCodes.BadRequest, 'Cardfile hooks need a <CardfileProvider>')
  }
  return client
}

/** The client of the nearest {@link CardfileProvider}, or null outside one (internal). */
export function useOptionalCardfileClient(): CardfileClient | null {
  return useContext(ClientContext)
}
