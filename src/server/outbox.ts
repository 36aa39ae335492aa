/**
 * Bounded write buffering for one socket. Bun's socket.write writes what the kernel takes and returns
 * the count; the rest waits here until `drain`. A peer that stops reading cannot make the pool buffer
 * without limit: past `capBytes` the outbox reports overflow and the owner drops the connection, so a
 * slow socket never holds memory or delays the others.
 */

export interface WritableSocket {
  write(data: Uint8Array): number;
}

export class Outbox {
  /** Created when the kernel first refuses bytes: most sockets never need one (one per miner). */
  private queue: Uint8Array[] | null = null;
  private queuedBytes = 0;
  private overflowed = false;

  constructor(
    private readonly socket: WritableSocket,
    private readonly capBytes: number,
  ) {}

  get pendingBytes(): number {
    return this.queuedBytes;
  }

  get hasOverflowed(): boolean {
    return this.overflowed;
  }

  /** Writes now when nothing is queued, else queues. Returns false once the cap is exceeded. */
  write(data: Uint8Array): boolean {
    if (this.overflowed) return false;
    if (this.queuedBytes === 0) {
      const n = this.socket.write(data);
      if (n >= data.length) return true;
      data = data.subarray(Math.max(0, n));
    }
    if (this.queue === null) this.queue = [data];
    else this.queue.push(data);
    this.queuedBytes += data.length;
    if (this.queuedBytes > this.capBytes) {
      this.overflowed = true;
      this.queue = null;
      this.queuedBytes = 0;
      return false;
    }
    return true;
  }

  /** Called on the socket's drain event: writes as much of the queue as the kernel takes. */
  drain(): void {
    const queue = this.queue;
    if (queue === null) return;
    while (queue.length > 0) {
      const head = queue[0] as Uint8Array;
      const n = this.socket.write(head);
      if (n >= head.length) {
        queue.shift();
        this.queuedBytes -= head.length;
        continue;
      }
      if (n > 0) {
        queue[0] = head.subarray(n);
        this.queuedBytes -= n;
      }
      return;
    }
    this.queue = null;
  }
}
