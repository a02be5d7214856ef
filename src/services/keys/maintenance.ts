import type { FastifyBaseLogger } from 'fastify'
import type { Clock } from '../../clock.js'
import type { Config } from '../../config.js'
import type { Keyring } from './keyring.js'
import { maintain } from './rotation.js'

/**
 * What every replica runs on SIGHUP and every KEYS_RELOAD_INTERVAL: the scheduled rotation step (when
 * KEY_ROTATION_DAYS is set), then a re-read of KEYS_DIR. It logs failures and never throws: a bad key file or
 * a full disk must not take down a service that still has keys to sign with.
 */
export function createKeyMaintenance ({ config, keyring, clock, log }: {
  config: Config
  keyring: Keyring
  clock: Clock
  log: FastifyBaseLogger
}): () => Promise<void> {
  return async function maintainKeys () {
    try {
      if (config.keyRotationDays !== undefined) {
        const result = await maintain({
          dir: config.keysDir,
          alg: config.alg,
          periodMs: config.keyRotationDays * 86_400_000,
          leadMs: config.keyPublishLead * 1000,
          tokenLifetimeMs: (config.accessTokenTtl + config.clockSkew) * 1000
        }, clock.now())
        if (result.created) log.info({ kid: result.created, event: 'key_rotated' }, 'scheduled rotation: next key published')
        if (result.retired.length > 0) log.info({ kids: result.retired, event: 'key_retired' }, 'scheduled rotation: old keys retired')
      }
      await keyring.reload()
    } catch (error) {
      log.error({ err: error }, 'key maintenance failed; keeping the keys already loaded')
    }
  }
}
