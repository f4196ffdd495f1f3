import 'fake-indexeddb/auto'
import { JSDOM } from 'jsdom'

/**
 * Gives this Node process what react-dom and the Cardfile client expect of a browser page: a
 * jsdom window and document, and IndexedDB from fake-indexeddb (imported above; it installs
 * `indexedDB` on `globalThis`). Must run before react-dom is loaded: react-dom decides at load
 * time whether it can use the DOM.
 *
 * Only DOM objects are copied over (not `Event`, which Node has and `ws` uses), never jsdom's
 * `Uint8Array` or `TextEncoder`: the hook tests need a TextEncoder workaround because vitest's
 * jsdom environment replaces the typed arrays, which breaks jose's `instanceof Uint8Array`.
 * Here the typed arrays stay Node's, and tokens are signed in the server's process anyway.
 *
 * @example
 * const closeDom = installDom()
 * const { createRoot } = await import('react-dom/client')
 */
export function installDom(): () => void {
  const { window } = new JSDOM('<!doctype html><html><body></body></html>', {
    url: 'http://127.0.0.1/',
  })
  const globals: Record<string, unknown> = {
    window,
    document: window.document,
    navigator: window.navigator,
    Node: window.Node,
    Element: window.Element,
    HTMLElement: window.HTMLElement,
    HTMLIFrameElement: window.HTMLIFrameElement,
  }
  for (const [name, value] of Object.entries(globals)) {
    Object.defineProperty(globalThis, name, { value, configurable: true, writable: true })
  }
  return () => window.close()
}
