/**
 * New-work fan-out to every miner of a listener: one fan-out at a time, in order, each over its
 * targets in chunks with a turn of the event loop between them, so shares keep being answered while
 * thousands of miners get their job. The SV1 and SV2 listeners each keep one queue.
 */
export class FanoutQueue {
  private readonly queue: (() => void)[] = [];
  private running = false;

  /** `chunk`: targets served per turn of the event loop. */
  constructor(private readonly chunk: number) {}

  /**
   * Queues a fan-out. `targets` is called when it starts (after the ones queued before it), `each`
   * for every target, `done` with the milliseconds from its first target to its last.
   */
  run<T>(targets: () => readonly T[], each: (target: T) => void, done: (ms: number) => void): void {
    const start = (): void => {
      const list = targets();
      const t0 = performance.now();
      let i = 0;
      const step = (): void => {
        const end = Math.min(list.length, i + this.chunk);
        for (; i < end; i++) each(list[i] as T);
        if (i < list.length) {
          setImmediate(step);
          return;
        }
        done(performance.now() - t0);
        const next = this.queue.shift();
        if (next !== undefined) next();
        else this.running = false;
      };
      step();
    };
    if (this.running) {
      this.queue.push(start);
      return;
    }
    this.running = true;
    start();
  }
}
