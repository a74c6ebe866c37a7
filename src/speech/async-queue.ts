/**
 * A push-to-pull bridge: producers `push`, one consumer iterates; `end` finishes the iteration.
 * With `maxItems`, a queue nobody reads keeps only the newest items (`dropped` counts the others).
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  private ended = false;
  private droppedItems = 0;

  constructor(private readonly maxItems = Number.POSITIVE_INFINITY) {}

  /** Items pushed and dropped unread because the queue held `maxItems`. */
  get dropped(): number {
    return this.droppedItems;
  }

  push(item: T): void {
    if (this.ended) return;
    const waiting = this.waiting;
    if (waiting) {
      this.waiting = undefined;
      waiting({ value: item, done: false });
    } else {
      this.items.push(item);
      if (this.items.length > this.maxItems) {
        this.items.shift();
        this.droppedItems += 1;
      }
    }
  }

  /** Ends the iteration and hands back what was pushed and never read. */
  takeUnread(): T[] {
    this.end();
    return this.items.splice(0);
  }

  end(): void {
    this.ended = true;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiting = resolve));
      },
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
