/** Contact-attribute exports (wired to `useExport` once the server offers exports). */
export function ExportsPage() {
  return (
    <div className="narrow-page">
      <h1>Exports</h1>
      <p className="muted">Exports are not available on this server yet.</p>
    </div>
  )
}
