/**
 * How the server process is started, wherever it is started: package.json `start`, the Dockerfile (ENV and CMD),
 * cluster.ts for its workers, and the benchmark (bench/lib/tessera.ts), so that what the benchmark measures is
 * what runs in production. test/runtime.test.ts checks that they agree. Both settings act on idle RSS
 * (issue: idle RSS under 120 MB); measurements in bench/README.md.
 *
 * - MALLOC_ARENA_MAX=1: each argon2id hash takes a 19 MiB buffer on a libuv thread. glibc gives every thread
 *   that allocates its own arena and raises its mmap threshold to the size of the first such buffer freed, so
 *   each pool thread kept a 19 MiB buffer resident after the hashes were over (4 threads: +76 MiB idle). With
 *   one arena the threads reuse the same free buffer; one stays resident. Fixing MALLOC_MMAP_THRESHOLD_ instead
 *   returns every buffer to the kernel but costs a fresh 19 MiB of page faults per hash: +35% CPU per login.
 * - --max-semi-space-size=2 (MiB): V8 grows the young generation up to 2 x 16 MiB while modules load and keeps
 *   it at that size through idle periods (it only shrinks at a GC). 2 MiB semi-spaces hold the young
 *   generation to 4 MiB; 1 MiB would save 2 MiB more but cost ~20% more CPU per /auth/me in scavenges.
 *
 * glibc reads MALLOC_* when the process starts and V8 sizes its heap when the isolate is created, so neither can
 * be set by the server itself: each start path passes them. Values already set by the operator are kept.
 */
export const RUNTIME_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '1' }
export const RUNTIME_FLAGS: readonly string[] = ['--max-semi-space-size=2']

/** `env` plus each runtime variable it does not set. */
export function withRuntimeEnv<V extends string | undefined> (env: Record<string, V>): Record<string, V | string> {
  const missing = Object.entries(RUNTIME_ENV).filter(([name]) => env[name] === undefined)
  return { ...Object.fromEntries(missing), ...env }
}

/** `execArgv` plus each runtime flag whose option it does not already give. */
export function withRuntimeFlags (execArgv: readonly string[]): string[] {
  // V8 accepts --max_semi_space_size and --max-semi-space-size alike.
  const option = (flag: string) => (flag.split('=')[0] ?? flag).replaceAll('_', '-')
  const given = new Set(execArgv.map(option))
  return [...execArgv, ...RUNTIME_FLAGS.filter((flag) => !given.has(option(flag)))]
}
