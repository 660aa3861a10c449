/**
 * An async iterator over pushed values that ends when the source closes.
 * Values pushed before anyone reads are buffered (up to `maxBuffered`; beyond
 * that the oldest are dropped, so a consumer that never reads cannot make the
 * client grow without bound).
 */
export class NotificationStream<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private readonly waiting: ((r: IteratorResult<T, undefined>) => void)[] = [];
  private ended = false;
  /** Values dropped because the buffer was full. */
  dropped = 0;

  /**
   * @param maxBuffered largest number of unread values kept
   * @param onReturn called once when the consumer stops (break/return) or the stream ends
   */
  constructor(
    private readonly maxBuffered: number,
    private readonly onReturn: () => void = () => undefined,
  ) {}

  /** Delivers a value to a waiting reader, or buffers it. */
  push(value: T): void {
    if (this.ended) return;
    const reader = this.waiting.shift();
    if (reader) {
      reader({ value, done: false });
      return;
    }
    this.buffer.push(value);
    if (this.buffer.length > this.maxBuffered) {
      this.buffer.shift();
      this.dropped += 1;
    }
  }

  /** Ends the stream: readers get the buffered values, then `done`. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const reader of this.waiting.splice(0)) reader({ value: undefined, done: true });
    this.onReturn();
  }

  /** Next value; resolves when one arrives or the stream ends. */
  next(): Promise<IteratorResult<T, undefined>> {
    const value = this.buffer.shift();
    if (value !== undefined) return Promise.resolve({ value, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Stops the iteration (`break` in `for await`). */
  return(): Promise<IteratorResult<T, undefined>> {
    this.buffer.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
