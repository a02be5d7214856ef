import { ConfigError, loadConfig, type Config } from './config.js'

/** For process entry points: a bad environment ends the process with every problem named, not a stack trace. */
export function loadConfigOrExit (env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`tessera: ${error.message}\n`)
      process.exit(1)
    }
    throw error
  }
}
