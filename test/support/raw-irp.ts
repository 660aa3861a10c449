import { connect, type TLSSocket } from 'node:tls';
import { FrameDecoder, decodeServerMessage, type ServerMessage } from '@irp/protocol';

/**
 * A bare TLS connection speaking frames, for tests that must control the exact bytes
 * sent (oversize frames, pipelining in one write) and observe closes.
 */
export class RawIrp {
  readonly messages: ServerMessage[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder(64 * 1024 * 1024);
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) this.messages.push(decodeServerMessage(frame));
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number, ca: string, options: { alpn?: string[] } = {}): Promise<RawIrp> {
    return new Promise((resolve, reject) => {
      const socket = connect({
        host: '127.0.0.1',
        port,
        ca,
        servername: 'localhost',
        ALPNProtocols: options.alpn ?? ['irp/1'],
      });
      socket.once('secureConnect', () => resolve(new RawIrp(socket)));
      socket.once('error', reject);
    });
  }

  /** Writes one frame holding `xml`. */
  send(xml: string): void {
    this.socket.write(RawIrp.frame(xml));
  }

  static frame(xml: string): Buffer {
    const body = Buffer.from(xml, 'utf8');
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length);
    return Buffer.concat([header, body]);
  }

  /** Resolves once `count` messages have arrived (or rejects after `ms`). */
  async waitFor(count: number, ms = 5000): Promise<ServerMessage[]> {
    const deadline = Date.now() + ms;
    while (this.messages.length < count) {
      if (this.closed)
        throw new Error(`connection closed after ${this.messages.length} of ${count} messages`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out with ${this.messages.length} of ${count} messages`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.messages.slice(0, count);
  }

  /** Resolves when the server has closed the connection (or rejects after `ms`). */
  async waitClosed(ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('connection still open');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** The response of message `m`, or a thrown error naming what came instead. */
export function asResponse(m: ServerMessage | undefined) {
  if (m?.kind !== 'response') throw new Error(`expected a response, got ${m?.kind ?? 'nothing'}`);
  return m.response;
}
