/**
 * Response headers that confine the served web app: where it may load from and connect to,
 * that no other site may frame it, and that browsers must not guess content types.
 */

/** A Host header safe to quote in a policy: a name or IP literal and an optional port. */
const SAFE_HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/

/**
 * The Content-Security-Policy of the app. `connect-src` names the page's own host with `ws:` and
 * `wss:` beside `'self'`, because older browsers (Safari before 15.4) do not count a same-origin
 * websocket as `'self'`. Scripts and styles come from the app's own files only; images may also
 * be data: URLs (icons inlined by the bundler).
 *
 * @example
 * res.setHeader('content-security-policy', contentSecurityPolicy(req.headers.host))
 */
export function contentSecurityPolicy(host: string | undefined): string {
  const sockets = host !== undefined && SAFE_HOST.test(host) ? ` ws://${host} wss://${host}` : ''
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self'${sockets}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ')
}

/**
 * Every security header of an app response: the policy above, `nosniff`, no referrer sent to
 * other origins, and `X-Frame-Options` for browsers that predate `frame-ancestors`.
 *
 * @example
 * res.writeHead(200, { 'content-type': 'text/html', ...appSecurityHeaders(req.headers.host) })
 */
export function appSecurityHeaders(host: string | undefined): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(host),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'strict-origin-when-cross-origin',
    'x-frame-options': 'DENY',
  }
}
