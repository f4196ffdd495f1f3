/** The deletion audit log (wired to `useDeletedContacts` once the server offers deletion). */
export function DeletedContactsPage() {
  return (
    <div className="narrow-page">
      <h1>Deleted contacts</h1>
      <p className="muted">Deletion is not available on this server yet.</p>
    </div>
  )
}
