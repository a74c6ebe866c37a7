import { Observable, type OperatorFunction } from 'rxjs';

/**
 * Text deltas in, the same text out, with each delta's trailing whitespace held back until more
 * text follows (and dropped at the end). A sentence ended by whitespace is then decided one
 * character later, so the last sentence of a stream always leaves a splitter at completion, where
 * it is known to be last.
 */
export const holdTrailingWhitespace = (): OperatorFunction<string, string> =>
  (source) =>
    new Observable<string>((out) => {
      let held = '';
      return source.subscribe({
        next: (delta) => {
          const body = delta.trimEnd();
          if (body.length === 0) {
            held += delta;
            return;
          }
          out.next(held + body);
          held = delta.slice(body.length);
        },
        error: (error: unknown) => out.error(error),
        complete: () => out.complete(),
      });
    });
