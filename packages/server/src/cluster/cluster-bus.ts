/**
 * How server instances reach each other: every instance reads its own inbox, and a message sent
 * to an instance arrives in the order it was sent, once, unless the bus itself lost it (a
 * restarted Redis). Whatever must arrive is therefore also kept by its sender until it is
 * answered and sent again when {@link ClusterBus.start}'s `onResync` says messages may have
 * been lost; nothing else may rely on a message arriving.
 */
export interface ClusterBus {
  /**
   * Starts reading this instance's inbox. `onMessage` hears every message sent to
   * `instanceId`; `onResync` is called whenever messages sent meanwhile may have been lost
   * (the bus reconnected), so that receivers catch up from the system of record.
   */
  start(
    instanceId: string,
    onMessage: (message: Uint8Array) => void,
    onResync: () => void,
  ): Promise<void>
  /** Sends `message` to `instanceId`'s inbox (nothing when that instance is gone). */
  send(instanceId: string, message: Uint8Array): void
  /** Sends `message` to every live instance, this one included; resolves once it was handed on. */
  broadcast(message: Uint8Array): Promise<void>
  /** Stops reading and forgets this instance's inbox. */
  stop(): Promise<void>
}
