// GOV.UK Frontend's components, where JavaScript runs; every page works without it.
import { initAll } from './govuk-frontend.min.js'
initAll()
