import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './app'
import { registerServiceWorker } from './register-service-worker'
import './styles.css'

const root = document.getElementById('root')
if (root === null) throw new Error('index.html has no #root')
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
)

registerServiceWorker()
