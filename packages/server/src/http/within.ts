/**
 * Runs `use` with a typed document wrapper (SchemaDoc, ContactDoc, ConversationDoc) and destroys
 * the wrapper afterwards. Wrappers listen to their document; server-side code wraps the host's
 * live documents, which outlive the call, so a wrapper left behind would leak a listener per
 * request.
 *
 * @example
 * const view = await host.read(name, (doc) => within(new SchemaDoc(doc), (s) => s.view()))
 */
export function within<W extends { destroy(): void }, T>(wrapper: W, use: (wrapper: W) => T): T {
  try {
    return use(wrapper)
  } finally {
    wrapper.destroy()
  }
}
