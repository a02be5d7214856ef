import { parseArgs } from 'node:util'
import { keysCommand, keysHelp } from './cli/keys.js'
import { CommandError, createOutput, EXIT, noExtraArgs, UsageError } from './cli/io.js'
import { usersCommand, usersHelp } from './cli/users.js'
import { ConfigError, loadConfig } from './config.js'
import { createStore } from './store/index.js'

const mainHelp = `Usage: npm run cli -- <group> <command> [options]

  keys generate | rotate [--activate-in <s>] | list | retire <kid> [--force]
  users add <username> [--role <role>]... | list | disable <username> | enable <username>
        | set-roles <username> <role>... | reset-password <username>
  migrate                 apply database migrations (the service also runs them at start)

Options: --json (machine-readable output), --help (on any group or command).
The CLI reads the same environment variables as the service (KEYS_DIR, JWT_ALG, DATABASE_URL, ...).
Exit codes: 0 success, 1 the command failed or was refused, 2 usage error.`

/** The admin CLI: same configuration as the service, no HTTP. */
async function main (argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      force: { type: 'boolean', default: false },
      role: { type: 'string', multiple: true },
      'activate-in': { type: 'string' }
    }
  })
  const [group, ...args] = positionals
  const help = group === 'keys' ? keysHelp : group === 'users' ? usersHelp : mainHelp
  if (values.help || group === undefined || group === 'help') {
    process.stdout.write(`${help}\n`)
    return group === undefined && !values.help ? EXIT.USAGE : EXIT.OK
  }

  const config = loadConfig(process.env)
  const out = createOutput(values.json)
  if (group === 'keys') {
    await keysCommand(config, args, values, out)
    return EXIT.OK
  }
  if (group !== 'users' && group !== 'migrate') throw new UsageError(`unknown command "${group}"`)
  if (group === 'migrate') noExtraArgs(args, 0, 'migrate')
  const store = await createStore(config.database)
  try {
    await store.migrate()
    if (group === 'migrate') out.result({ migrated: true, store: store.kind }, `migrations applied (${store.kind})`)
    else await usersCommand(config, store, args, values, out)
  } finally {
    await store.close()
  }
  return EXIT.OK
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (error) {
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`tessera: ${(error as Error).message}\nRun with --help for usage.\n`)
    process.exitCode = EXIT.USAGE
  } else if (error instanceof CommandError || error instanceof ConfigError) {
    process.stderr.write(`tessera: ${error.message}\n`)
    process.exitCode = EXIT.FAILED
  } else {
    process.stderr.write(`tessera: ${(error as Error).stack ?? String(error)}\n`)
    process.exitCode = EXIT.FAILED
  }
}
