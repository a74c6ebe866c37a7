// A function error: Lambda answers 200 with X-Amz-Function-Error.
export async function handler() {
  throw new RangeError('the handler gave up');
}
