import { type TLSSocket } from 'node:tls';
import { type Output } from '../cli/output.js';

/**
 * Lines typed on stdin go to every open peer connection; what a peer sends goes
 * to stdout (raw text, or `{"event":"message"}` lines with --json). Status goes
 * to stderr in human mode.
 */
export class ChatSession {
  private readonly sockets = new Set<TLSSocket>();
  private stdinEnded = false;
  private attached = false;

  /** @param endPeersOnEof end our side of every conversation when stdin ends (connect), or keep them (listen) */
  constructor(
    private readonly out: Output,
    private readonly endPeersOnEof: boolean,
  ) {}

  private attachStdin(): void {
    if (this.attached) return;
    this.attached = true;
    process.stdin.on('data', (chunk: Buffer) => {
      for (const s of this.sockets) s.write(chunk);
    });
    process.stdin.once('end', () => {
      this.stdinEnded = true;
      if (this.endPeersOnEof) for (const s of this.sockets) s.end();
    });
  }

  /** Stops reading stdin (so the process can exit). */
  detachStdin(): void {
    process.stdin.pause();
    process.stdin.unref?.();
  }

  /** Runs one conversation; resolves when the connection closes. */
  converse(socket: TLSSocket, peer: string): Promise<void> {
    this.sockets.add(socket);
    let partial = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      if (!this.out.json) {
        this.out.raw(text);
        return;
      }
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines)
        this.out.event({ event: 'message', from: peer, text: line }, () => line);
    });
    socket.on('error', (e: Error) => this.out.note(`connection with ${peer}: ${e.message}`));
    socket.resume(); // it was paused while the peer was being checked
    this.attachStdin();
    if (this.stdinEnded && this.endPeersOnEof) socket.end();
    return new Promise((resolve) => {
      socket.once('close', () => {
        if (partial !== '' && this.out.json)
          this.out.event({ event: 'message', from: peer, text: partial }, () => partial);
        this.sockets.delete(socket);
        resolve();
      });
    });
  }

  /** Ends every conversation. */
  endAll(): void {
    for (const s of this.sockets) s.end();
  }
}
