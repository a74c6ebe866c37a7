// Ends its own process mid-invocation.
export async function handler() {
  process.exit(3);
}
