// Answers with its event and the context fields the emulator passes.
export async function handler(event, context) {
  console.log('echo handler ran');
  return { event, functionName: context.functionName, invokedFunctionArn: context.invokedFunctionArn, cwd: process.cwd(), env: Object.keys(process.env).sort() };
}
