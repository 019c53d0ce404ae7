export { start, type RunningServer, type StartOptions } from './server.js'
