import { createConnection, createServer, type Server, type Socket } from 'node:net'
import type { Test } from 'tap'

/**
 * A TCP forwarder the test controls, to take a database or Redis away for real and bring it back:
 * `close()` stops listening and cuts every open connection (clients see resets, new connects are
 * refused); `open()` listens again on the same port. `freeze()` keeps connections open but forwards
 * nothing until `thaw()`, like a server that hangs or a stalled network.
 */
export interface TcpProxy {
  readonly port: number
  close (): Promise<void>
  open (): Promise<void>
  freeze (): void
  thaw (): void
}

export async function createTcpProxy (t: Test, target: { host: string, port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let frozen = false
  let server: Server | undefined
  let port = 0

  function pipe (client: Socket) {
    const upstream = createConnection(target)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => {
        sockets.delete(socket)
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream)
    upstream.pipe(client)
    if (frozen) for (const socket of [client, upstream]) socket.pause()
  }

  async function open () {
    if (server) return
    const listening = createServer(pipe)
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject)
      listening.listen({ port, host: '127.0.0.1' }, () => resolve())
    })
    port = (listening.address() as { port: number }).port
    server = listening
  }

  async function close () {
    const closing = server
    server = undefined
    for (const socket of sockets) socket.destroy()
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()))
  }

  await open()
  t.teardown(close)
  return {
    get port () { return port },
    close,
    open,
    // Paused sockets stop reading: bytes wait in the kernel as on a stalled network, and nothing is lost.
    freeze () {
      frozen = true
      for (const socket of sockets) socket.pause()
    },
    thaw () {
      frozen = false
      for (const socket of sockets) socket.resume()
    }
  }
}
