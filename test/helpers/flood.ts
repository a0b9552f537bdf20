import { connect, type Socket } from 'node:net';

/** How long one flood socket lived, from its connection to its close (ms). */
export interface FloodResult {
  lifetimes: number[];
  /** Sockets that never connected (refused or reset before the handshake ended). */
  unconnected: number;
}

/**
 * Opens `count` sockets to `host:port` (a loopback address) that never send a whole request:
 * every other one sends a few bytes of headers and stalls, the rest stay silent; then
 * `halfOpen` more that half-close at once (FIN, nothing sent). Resolves once all are
 * connected, with a promise of how long each lived until the server closed it, measured on
 * each socket's 'close' event.
 */
export async function idleFlood(
  host: string,
  port: number,
  count: number,
  halfOpen = 0,
): Promise<{ closed: Promise<FloodResult>; destroy: () => void }> {
  const silent = await openSockets(host, port, count, (socket, i) => {
    if (i % 2 === 1) socket.write('POST /hook/');
  });
  const halfClosed = await openSockets(host, port, halfOpen, (socket) => socket.end());
  const all = [silent, halfClosed];
  return {
    closed: Promise.all(all.map((f) => f.closed)).then(([a, b]) => ({
      lifetimes: [...a!.lifetimes, ...b!.lifetimes],
      unconnected: a!.unconnected + b!.unconnected,
    })),
    destroy: () => all.forEach((f) => f.destroy()),
  };
}

async function openSockets(
  host: string,
  port: number,
  count: number,
  onConnect: (socket: Socket, i: number) => void,
): Promise<{ closed: Promise<FloodResult>; destroy: () => void }> {
  const sockets: Socket[] = [];
  const lifetimes: number[] = [];
  let unconnected = 0;
  const ends = await Promise.all(
    Array.from(
      { length: count },
      (_, i) =>
        new Promise<{ closed: Promise<void> }>((opened) => {
          const socket = connect({ host, port });
          sockets.push(socket);
          socket.on('error', () => undefined);
          socket.on('data', () => undefined);
          const closed = new Promise<void>((done) => {
            socket.once('close', () => done());
          });
          let connected = false;
          socket.once('connect', () => {
            connected = true;
            const at = performance.now();
            onConnect(socket, i);
            const counted = closed.then(() => {
              lifetimes.push(performance.now() - at);
            });
            // Wrapped: resolving with the promise itself would wait for the close.
            opened({ closed: counted });
          });
          socket.once('close', () => {
            if (connected) return;
            unconnected++;
            opened({ closed });
          });
        }),
    ),
  );
  return {
    closed: Promise.all(ends.map((e) => e.closed)).then(() => ({ lifetimes, unconnected })),
    destroy: () => sockets.forEach((s) => s.destroy()),
  };
}
