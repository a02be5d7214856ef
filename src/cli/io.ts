import { createInterface } from 'node:readline'

/** Exit codes scripts can rely on. */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2 } as const

export class UsageError extends Error {}
export class CommandError extends Error {}

export interface Output {
  json: boolean
  /** Prints `human` for people, or `data` as one JSON document with --json. */
  result (data: unknown, human: string): void
}

export function createOutput (json: boolean): Output {
  return {
    json,
    result (data, human) {
      process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${human}\n`)
    }
  }
}

/**
 * A password from the terminal (asked twice, not echoed) or, when stdin is a pipe, its whole content minus
 * one trailing newline, so `printf %s "$PW" | npm run cli -- users add alice` works in scripts.
 */
export async function readPassword (prompt: string): Promise<string> {
  if (!process.stdin.isTTY) {
    let text = ''
    for await (const chunk of process.stdin) text += String(chunk)
    return text.replace(/\r?\n$/, '')
  }
  const first = await askHidden(`${prompt}: `)
  const second = await askHidden('Repeat it: ')
  if (first !== second) throw new CommandError('the two passwords differ')
  return first
}

async function askHidden (question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true })
  const writeOutput = (rl as unknown as { _writeToOutput: (s: string) => void })
  let asked = false
  writeOutput._writeToOutput = (s: string) => {
    if (!asked) {
      process.stderr.write(s)
      asked = true
    }
  }
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve))
  } finally {
    process.stderr.write('\n')
    rl.close()
  }
}

/**
 * Refuses arguments a command does not take: `users disable alice bob` must not disable alice alone and
 * exit 0, or a script would believe both were done.
 */
export function noExtraArgs (args: readonly string[], max: number, usage: string) {
  if (args.length > max) throw new UsageError(`unexpected argument "${args[max] ?? ''}"; usage: ${usage}`)
}

export function formatTime (ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString()
}

export function table (rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? []
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n')
}
