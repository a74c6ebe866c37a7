import type { ChildHandle, ChildSpec, ExitReason, RestartType } from '../../src/runtime/child.js';

/** What happened, in order: `start:a#1`, `stop:a#1`, … Tests await entries instead of sleeping. */
export class Journal {
  readonly entries: string[] = [];
  private readonly waiters: Array<{ entry: string; resolve: () => void }> = [];

  record(entry: string): void {
    this.entries.push(entry);
    for (const waiter of this.waiters.filter((w) => w.entry === entry)) waiter.resolve();
  }

  /**
   * Resolves once `entry` has been recorded and the microtasks it set off have run, so a supervisor
   * has finished reacting to the start or stop it records.
   */
  async next(entry: string): Promise<void> {
    if (!this.entries.includes(entry)) await new Promise<void>((resolve) => this.waiters.push({ entry, resolve }));
    await new Promise((resolve) => setImmediate(resolve));
  }

  since(entry: string): string[] {
    return this.entries.slice(this.entries.indexOf(entry) + 1);
  }
}

/** One incarnation of a fake child: the test decides how it ends. */
export class FakeIncarnation implements ChildHandle {
  readonly exited: Promise<ExitReason>;
  private settle!: (reason: ExitReason) => void;

  constructor(readonly name: string, private readonly journal: Journal, private readonly stopping: 'prompt' | 'never') {
    this.exited = new Promise((resolve) => (this.settle = resolve));
  }

  crash(message = `${this.name} crashed`): void {
    this.settle({ kind: 'crash', error: new Error(message) });
  }

  end(kind: 'normal' | 'shutdown' = 'normal'): void {
    this.settle({ kind });
  }

  async stop(): Promise<void> {
    this.journal.record(`stop:${this.name}`);
    if (this.stopping === 'never') return new Promise(() => undefined);
    this.settle({ kind: 'shutdown' });
  }
}

export interface FakeChildOptions {
  restart?: RestartType;
  shutdownMs?: number;
  backoffMs?: { initial: number; max: number };
  stopping?: 'prompt' | 'never';
  /** Decides, per start attempt (1-based), whether that start fails and how. */
  failStart?: (attempt: number) => 'throw' | 'reject' | undefined;
}

/** A child spec whose incarnations are kept, so a test can crash the current one. */
export class FakeChild {
  readonly incarnations: FakeIncarnation[] = [];
  attempts = 0;
  readonly spec: ChildSpec;

  constructor(readonly id: string, journal: Journal, options: FakeChildOptions = {}) {
    this.spec = {
      id,
      restart: options.restart ?? 'permanent',
      shutdownMs: options.shutdownMs ?? 1_000,
      backoffMs: options.backoffMs,
      start: () => {
        this.attempts += 1;
        const failure = options.failStart?.(this.attempts);
        if (failure === 'throw') throw new Error(`${id} start #${this.attempts} threw`);
        if (failure === 'reject') return Promise.reject(new Error(`${id} start #${this.attempts} rejected`));
        const incarnation = new FakeIncarnation(`${id}#${this.incarnations.length + 1}`, journal, options.stopping ?? 'prompt');
        this.incarnations.push(incarnation);
        journal.record(`start:${incarnation.name}`);
        return incarnation;
      },
    };
  }

  get current(): FakeIncarnation {
    const incarnation = this.incarnations.at(-1);
    if (!incarnation) throw new Error(`${this.id} never started`);
    return incarnation;
  }
}

export function fakeChildren(journal: Journal, ids: string[], options: FakeChildOptions = {}): FakeChild[] {
  return ids.map((id) => new FakeChild(id, journal, options));
}

/** Resolves with the arguments of the next event that `subscribe` delivers. */
export function nextEvent<A extends unknown[]>(subscribe: (listener: (...args: A) => void) => () => void): Promise<A> {
  return new Promise((resolve) => {
    const off = subscribe((...args) => {
      off();
      resolve(args);
    });
  });
}
