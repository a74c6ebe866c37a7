/**
 * Dependency rules, checked by `npm test` (`npm run deps`): no cycle between files or between
 * folders, and each layer of `src/` imports only from the layers below it.
 *
 *   log.ts, clock.ts, process-alive.ts            leaf utilities
 *   config/                                       configuration schema, loading, model catalogue
 *   llm/                                          the Bedrock client and its message types
 *   accounting/ memory/ tools/ metrics/ stream/   services a call uses (no folder cycle among them)
 *   records/ tracing/                             call records (what each call did, for the API and the inspector); traces
 *   call/                                         the call machine and its effects
 *   protocol/                                     aybiza.v1 frames and the port every transport uses
 *   speech/                                       audio in front of a call: codecs, Transcribe, Polly
 *   telephony/                                    transports: aybiza.v1 over WebSocket, the softphone
 *   runtime/                                      supervisors and the node
 *   load/                                         the load runner (may start a node in-process)
 *   cli/, cli.ts                                  the commands
 *
 * The emulator stands apart: it is the Bedrock the client is tested against, so it shares no code
 * with the client; it may use only the leaf utilities, and only runtime (the embedded emulator),
 * load and cli start it.
 *
 * The parser is swc because dependency-cruiser cannot load TypeScript 7; swc does not tell type-only
 * imports apart, so a type import counts like any other.
 */
const LAYERS = [
  ['src/(log|clock|process-alive)\\.ts$'],
  ['src/config/'],
  ['src/llm/'],
  ['src/(accounting|memory|tools|metrics|stream|records|tracing)/'],
  ['src/call/'],
  ['src/protocol/'],
  ['src/speech/'],
  ['src/telephony/'],
  ['src/runtime/'],
  ['src/load/'],
  ['src/cli/', 'src/cli\\.ts$'],
];

const layerRules = LAYERS.slice(0, -1).map((paths, index) => {
  const from = paths.map((path) => `^${path}`);
  const higher = LAYERS.slice(index + 1).flat().map((path) => `^${path}`);
  return {
    name: `layer-${index}`,
    comment: `${paths.join(', ')} must not import a higher layer`,
    severity: 'error',
    from: { path: from },
    to: { path: higher },
  };
});

module.exports = {
  forbidden: [
    {
      name: 'no-file-cycle',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'emulator-shares-no-client-code',
      comment: 'the emulator imports only itself, the leaf utilities (log, clock) and the model facts (data, not code)',
      severity: 'error',
      from: { path: '^src/emulator/' },
      to: { path: '^src/', pathNot: ['^src/emulator/', '^src/(log|clock)\\.ts$', '^src/config/bedrock-models\\.json$'] },
    },
    {
      name: 'only-runtime-load-cli-start-the-emulator',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/emulator/', '^src/(runtime|load|cli)/', '^src/cli\\.ts$'] },
      to: { path: '^src/emulator/' },
    },
    {
      name: 'src-does-not-import-tests-or-benches',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
    {
      name: 'resolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    parser: 'swc',
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)dist/' },
    tsConfig: { fileName: 'tsconfig.json' },
    // The MCP SDK is reached only through its package.json "exports" (`@modelcontextprotocol/sdk/client/index.js`).
    enhancedResolveOptions: { extensions: ['.ts', '.js'], exportsFields: ['exports'], conditionNames: ['import', 'node', 'default'] },
  },
};
