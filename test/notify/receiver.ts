import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** A notification receiver on 127.0.0.1: records each request; answers 200, a status, or never. */
export interface Receiver {
  url(path: string): string;
  readonly received: Array<{ path: string; headers: IncomingMessage['headers']; body: string; json: Record<string, unknown> }>;
  /** 'ok' (200), a status code, or 'hang' (reads the request, never answers). */
  mode: 'ok' | number | 'hang';
  /** Requests that arrived and were never answered (hung). */
  readonly hung: number;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const sockets = new Set<Socket>();
  const received: Receiver['received'] = [];
  let hung = 0;
  const receiver: Receiver = {
    url: (path) => `http://127.0.0.1:${(server.address() as { port: number }).port}${path}`,
    received,
    mode: 'ok',
    get hung() {
      return hung;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(body) as Record<string, unknown>;
      } catch {
        // not JSON: the test says so
      }
      received.push({ path: req.url ?? '', headers: req.headers, body, json });
      if (receiver.mode === 'hang') {
        hung++;
        return;
      }
      res.writeHead(receiver.mode === 'ok' ? 200 : receiver.mode, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return receiver;
}
