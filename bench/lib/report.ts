/** Markdown tables and target verdicts. A missed target is reported, never fatal: CI never asserts a speed. */

export interface Target {
  name: string
  measured: string
  goal: string
  pass: boolean
  /** The same comparison from CPU time per request, which a shared machine disturbs far less than req/s. */
  crossCheck?: string
}

export function fmt (value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'n/a'
  return value.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

export function ratio (a: number, b: number): number {
  return b > 0 ? a / b : Number.NaN
}

/** `a / b >= goal` (or `<=` with `atMost`), printed as the ratio with the two values behind it. */
export function ratioTarget (name: string, a: number, b: number, goal: number, { atMost = false, unit = 'req/s' } = {}): Target {
  const r = ratio(a, b)
  return {
    name,
    measured: `${fmt(r, 2)} (${fmt(a)} / ${fmt(b)} ${unit})`,
    goal: `${atMost ? '<=' : '>='} ${goal}`,
    pass: atMost ? r <= goal : r >= goal
  }
}

export function valueTarget (name: string, value: number, goal: number, unit: string, { atMost = true, digits = 0 } = {}): Target {
  return {
    name,
    measured: `${fmt(value, digits)} ${unit}`,
    goal: `${atMost ? '<' : '>='} ${fmt(goal)} ${unit}`,
    pass: atMost ? value < goal : value >= goal
  }
}

export function table (header: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.map(String).join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}

export function targetsTable (targets: Target[]): string {
  return table(['target', 'measured', 'goal', 'result', 'cross-check: same ratio from server CPU per request'],
    targets.map((t) => [t.name, t.measured, t.goal, t.pass ? 'PASS' : 'MISS', t.crossCheck ?? '']))
}
