/** How long and how hard each scenario runs. `--quick` only proves the suite works; its numbers mean little. */
export interface Profile {
  quick: boolean
  /** Closed-loop connections for throughput runs. */
  connections: number
  warmupSeconds: number
  rounds: number
  roundSeconds: number
  distinctTokens: number
  sessions: number
  loginRoundSeconds: number
  fixedRate: number
  fixedRateSeconds: number
  fixedRateRounds: number
  growthUsers: readonly [number, number]
  growthRoundSeconds: number
  readyStarts: number
  algRounds: number
  algSeconds: number
  /** Scenario 9 (verification kit, in process): interleaved rounds, seconds per variant per round, warm-up. */
  kitRounds: number
  kitSeconds: number
  kitWarmupSeconds: number
}

export const FULL: Profile = {
  quick: false,
  connections: 50,
  warmupSeconds: 2,
  // Many short rounds rather than a few long ones: drift on a shared machine averages out across variants.
  rounds: 5,
  roundSeconds: 3,
  distinctTokens: 10_000,
  sessions: 10_000,
  loginRoundSeconds: 6,
  fixedRate: 5000,
  fixedRateSeconds: 5,
  fixedRateRounds: 2,
  growthUsers: [1000, 1_000_000],
  growthRoundSeconds: 5,
  readyStarts: 5,
  algRounds: 3,
  algSeconds: 0.5,
  kitRounds: 5,
  kitSeconds: 2,
  kitWarmupSeconds: 0.5
}

export const QUICK: Profile = {
  quick: true,
  connections: 20,
  warmupSeconds: 0.3,
  rounds: 1,
  roundSeconds: 1,
  distinctTokens: 2000,
  sessions: 1000,
  loginRoundSeconds: 1.5,
  fixedRate: 1000,
  fixedRateSeconds: 1,
  fixedRateRounds: 1,
  growthUsers: [1000, 20_000],
  growthRoundSeconds: 1.5,
  readyStarts: 1,
  algRounds: 1,
  algSeconds: 0.15,
  kitRounds: 1,
  kitSeconds: 0.3,
  kitWarmupSeconds: 0.1
}
