import type { Config } from '../config.js'
import { generateKey, readKeyFiles, writeKeyFile } from '../services/keys/key-files.js'
import { pickActive, statusOf } from '../services/keys/keyring.js'
import { retire, RetireRefusedError, rotate } from '../services/keys/rotation.js'
import { CommandError, formatTime, noExtraArgs, table, UsageError, type Output } from './io.js'

export const keysHelp = `Usage: npm run cli -- keys <command> [options]

Commands:
  generate                      add a key that signs at once (first key, or replacing a lost one)
  rotate [--activate-in <s>]    add a key published now that signs after <s> seconds
                                (default: JWKS max-age + KEYS_RELOAD_INTERVAL + 60, so caches learn it first)
  list                          kid, algorithm, status (next, active, previous, retired) and times
  retire <kid> [--force]        remove a key from the JWKS; refuses the active key and keys that may
                                still have live tokens unless --force

Keys are read from and written to KEYS_DIR with JWT_ALG. Running services pick changes up on SIGHUP
or within KEYS_RELOAD_INTERVAL seconds. Add --json for machine-readable output.`

export async function keysCommand (config: Config, args: string[], options: { 'activate-in'?: string, force?: boolean }, out: Output) {
  const [command, ...rest] = args
  const now = Date.now()
  switch (command) {
    case 'generate': {
      noExtraArgs(rest, 0, 'keys generate')
      const file = await generateKey(config.alg, new Date(now))
      await writeKeyFile(config.keysDir, file, { exclusive: true })
      out.result({ kid: file.kid, alg: file.alg, activatesAt: file.activatesAt }, `generated ${file.alg} key ${file.kid} in ${config.keysDir} (signs now)`)
      return
    }
    case 'rotate': {
      noExtraArgs(rest, 0, 'keys rotate [--activate-in <seconds>]')
      const raw = options['activate-in']
      if (raw !== undefined && !/^\d+$/.test(raw)) throw new UsageError('--activate-in takes whole seconds')
      const activateIn = raw === undefined ? config.keyPublishLead : Number(raw)
      if (activateIn < config.jwksMaxAge) {
        process.stderr.write(`warning: --activate-in ${activateIn} is shorter than the JWKS max-age (${config.jwksMaxAge} s); ` +
          'verifiers with a cached JWKS may see the new kid before they know it and refetch\n')
      }
      const file = await rotate(config.keysDir, config.alg, now, activateIn * 1000)
      out.result({ kid: file.kid, alg: file.alg, activatesAt: file.activatesAt },
        `added ${file.alg} key ${file.kid}: published now, signs from ${file.activatesAt}`)
      return
    }
    case 'list': {
      noExtraArgs(rest, 0, 'keys list')
      const { keys, errors } = await readKeyFiles(config.keysDir)
      const all = keys.map((k) => ({ kid: k.kid, alg: k.alg, createdAt: Date.parse(k.createdAt), activatesAt: Date.parse(k.activatesAt), retiredAt: k.retiredAt === null ? null : Date.parse(k.retiredAt) }))
      const activeKid = pickActive(all.filter((k) => k.alg === config.alg), now)?.kid
      const listed = all.map((k) => ({ ...k, status: k.alg === config.alg ? statusOf(k, activeKid, now) : 'other-alg' }))
      const human = table([
        ['KID', 'ALG', 'STATUS', 'CREATED', 'ACTIVATES', 'RETIRED'],
        ...listed.map((k) => [k.kid, k.alg, k.status, formatTime(k.createdAt), formatTime(k.activatesAt), formatTime(k.retiredAt)])
      ]) + errors.map((e) => `\nunreadable: ${e.file}: ${e.error}`).join('')
      out.result({ keys: listed.map((k) => ({ ...k, createdAt: formatTime(k.createdAt), activatesAt: formatTime(k.activatesAt), retiredAt: k.retiredAt === null ? null : formatTime(k.retiredAt) })), errors }, human)
      return
    }
    case 'retire': {
      const kid = rest[0]
      if (!kid) throw new UsageError('keys retire needs a kid (see keys list)')
      noExtraArgs(rest, 1, 'keys retire <kid> [--force]')
      try {
        const file = await retire(config.keysDir, kid, { now, tokenLifetimeMs: (config.accessTokenTtl + config.clockSkew) * 1000, force: options.force === true })
        out.result({ kid: file.kid, retiredAt: file.retiredAt }, `retired ${file.kid}: it leaves the JWKS at the next reload`)
      } catch (error) {
        if (error instanceof RetireRefusedError) throw new CommandError(error.message)
        throw error
      }
      return
    }
    default:
      throw new UsageError(command ? `unknown keys command "${command}"` : 'keys needs a command')
  }
}
