// Holds its invocation for its event's `ms`, a minute without one (a slow or hanging function).
export async function handler(event) {
  await new Promise((resolve) => setTimeout(resolve, event.ms ?? 60_000));
  return { slept: event.ms };
}
