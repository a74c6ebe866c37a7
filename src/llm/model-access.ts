import { BedrockClient, GetFoundationModelCommand, GetInferenceProfileCommand } from '@aws-sdk/client-bedrock';

/** One configured model as `serve` will call it: the id it sends (a profile id or a base id) and the base model id. */
export interface ModelToCheck {
  /** Where the configuration names it, e.g. `agents.default.model`. */
  path: string;
  modelId: string;
  baseModelId: string;
}

export type ModelAccess =
  | { path: string; modelId: string; ok: true; lifecycle: string; endOfLife?: Date }
  | { path: string; modelId: string; ok: false; problem: string };

const PROFILE_PREFIX = /^(us|eu|apac|jp|au|global|us-gov|ca)\./;

/**
 * Asks the Bedrock control plane whether each model can be called in this account and region, and
 * what Bedrock says of its lifecycle. A failure names the model, the region and, when access is the
 * problem, the IAM action that is missing.
 */
export async function checkModelAccess(client: BedrockClient, region: string, models: ModelToCheck[]): Promise<ModelAccess[]> {
  return Promise.all(models.map(async ({ path, modelId, baseModelId }): Promise<ModelAccess> => {
    const step = async <T>(action: string, resource: string, run: () => Promise<T>): Promise<T | string> => {
      try {
        return await run();
      } catch (error) {
        const name = (error as Error).name;
        if (name === 'AccessDeniedException') return `${path}: ${resource} in ${region}: access denied — the role needs ${action} (and bedrock:InvokeModelWithResponseStream) on it`;
        if (name === 'ResourceNotFoundException' || name === 'ValidationException') return `${path}: ${resource} is not offered in ${region} (retired, or not available there)`;
        return `${path}: checking ${resource} in ${region} failed: ${name}: ${(error as Error).message}`;
      }
    };
    if (PROFILE_PREFIX.test(modelId)) {
      const profile = await step('bedrock:GetInferenceProfile', `inference profile ${modelId}`,
        () => client.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: modelId })));
      if (typeof profile === 'string') return { path, modelId, ok: false, problem: profile };
    }
    const model = await step('bedrock:GetFoundationModel', `model ${baseModelId}`,
      () => client.send(new GetFoundationModelCommand({ modelIdentifier: baseModelId })));
    if (typeof model === 'string') return { path, modelId, ok: false, problem: model };
    const lifecycle = model.modelDetails?.modelLifecycle;
    return { path, modelId, ok: true, lifecycle: lifecycle?.status ?? 'ACTIVE', ...(lifecycle?.endOfLifeTime ? { endOfLife: lifecycle.endOfLifeTime } : {}) };
  }));
}

/** What the start-up check needs of the configuration. */
export interface ModelAccessConfig {
  region: string;
  /** The runtime endpoint override; the control plane is asked at the same place when set (the emulator serves both). */
  endpoint?: string;
  models: ModelToCheck[];
  /** Default: the SDK's credential chain, as the runtime client uses in aws mode. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * `serve`'s start-up check in aws mode: throws, naming every model that cannot be called, and
 * returns a warning per model Bedrock reports as Legacy.
 */
export async function verifyModelAccess(config: ModelAccessConfig): Promise<string[]> {
  const client = new BedrockClient({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
  });
  try {
    const results = await checkModelAccess(client, config.region, config.models);
    const problems = results.flatMap((result) => (result.ok ? [] : [result.problem]));
    if (problems.length > 0) throw new Error(`Bedrock models that serve cannot call:\n${problems.join('\n')}`);
    return results.flatMap((result) => (result.ok && result.lifecycle === 'LEGACY'
      ? [`${result.path}: ${result.modelId} is Legacy on Bedrock${result.endOfLife ? `, end of life ${result.endOfLife.toISOString().slice(0, 10)}` : ''}`]
      : []));
  } finally {
    client.destroy();
  }
}
