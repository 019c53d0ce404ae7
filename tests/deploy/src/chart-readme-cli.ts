// Regenerates the parameter table in charts/users-auth/README.md from values.yaml.
import { readFileSync, writeFileSync } from 'node:fs'
import { readmePath, renderParameters, valuesPath, withParameters } from './chart-readme.js'

const table = renderParameters(readFileSync(valuesPath, 'utf8'))
writeFileSync(readmePath, withParameters(readFileSync(readmePath, 'utf8'), table))
console.log(`updated ${readmePath}`)
