// Allocates until the V8 heap limit the emulator sets kills the process.
export async function handler() {
  const hoard = [];
  for (;;) hoard.push(new Array(100_000).fill({ filler: Math.random() }));
}
