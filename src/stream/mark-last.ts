import { Observable, tap, type OperatorFunction } from 'rxjs';

export interface MarkedChunk {
  text: string;
  last: boolean;
}

/**
 * Runs `chunker` and marks which of its chunks is the last one, without delaying any chunk the
 * chunker emits while its source still streams: only chunks that come out when the source
 * completes (a splitter's flush) are candidates, and the final one of those carries `last` when
 * `closes()` says the stream really ends there (a round that goes on to tools does not).
 */
export const markLast = <T>(chunker: OperatorFunction<T, string>, closes: () => boolean): OperatorFunction<T, MarkedChunk> =>
  (source) =>
    new Observable<MarkedChunk>((out) => {
      let completing = false;
      let held: string | undefined;
      return source.pipe(tap({ complete: () => (completing = true) }), chunker).subscribe({
        next: (text) => {
          if (!completing) {
            out.next({ text, last: false });
            return;
          }
          if (held !== undefined) out.next({ text: held, last: false });
          held = text;
        },
        error: (error: unknown) => out.error(error),
        complete: () => {
          if (held !== undefined) out.next({ text: held, last: closes() });
          out.complete();
        },
      });
    });
