import { BedrockError } from './bedrock-errors.js';
import { isRetired, type EmulatedModel, type ModelLookup } from './model-facts.js';

/**
 * The two Bedrock control-plane reads `serve` makes at start in aws mode, answered from the same
 * model data as the runtime: `GET /foundation-models/{id}` (GetFoundationModel) and
 * `GET /inference-profiles/{id}` (GetInferenceProfile), shaped as @aws-sdk/client-bedrock reads them.
 */
const FOUNDATION_MODEL = /^\/foundation-models\/([^/]+)$/;
const INFERENCE_PROFILE = /^\/inference-profiles\/([^/]+)$/;

export const isControlPlanePath = (path: string): boolean => FOUNDATION_MODEL.test(path) || INFERENCE_PROFILE.test(path);

const epochSeconds = (date: string) => Math.floor(Date.parse(`${date}T00:00:00Z`) / 1000);

/** Writes the answer to a control-plane GET, or throws the BedrockError the service would answer with. */
export function answerControlPlane(models: ModelLookup, path: string, region: string, today: string, respond: (body: unknown) => void, denied: readonly string[] = []): void {
  const modelMatch = FOUNDATION_MODEL.exec(path);
  const requested = decodeURIComponent((modelMatch ?? INFERENCE_PROFILE.exec(path))![1]!);
  if (denied.includes(requested)) {
    const action = modelMatch ? 'bedrock:GetFoundationModel' : 'bedrock:GetInferenceProfile';
    throw new BedrockError('AccessDeniedException', `User: arn:aws:iam::000000000000:user/emulator is not authorized to perform: ${action} on resource: ${requested}`);
  }
  if (modelMatch) {
    const id = decodeURIComponent(modelMatch[1]!);
    const found = models.find(id);
    if (!found || found.profile !== undefined || isRetired(found.model, today)) {
      throw new BedrockError('ResourceNotFoundException', `The model ${id} does not exist or is not available in ${region}.`);
    }
    return respond({ modelDetails: modelDetails(found.model, region) });
  }
  const profileId = decodeURIComponent(INFERENCE_PROFILE.exec(path)![1]!);
  const found = models.find(profileId);
  if (!found || found.profile === undefined || isRetired(found.model, today)) {
    throw new BedrockError('ResourceNotFoundException', `The inference profile ${profileId} does not exist in ${region}.`);
  }
  respond({
    inferenceProfileName: `${found.profile.toUpperCase()} ${found.model.alias}`,
    inferenceProfileArn: `arn:aws:bedrock:${region}:000000000000:inference-profile/${profileId}`,
    inferenceProfileId: profileId,
    models: [{ modelArn: modelArn(found.model, region) }],
    status: 'ACTIVE',
    type: 'SYSTEM_DEFINED',
  });
}

const modelArn = (model: EmulatedModel, region: string) => `arn:aws:bedrock:${region}::foundation-model/${model.id}`;

function modelDetails(model: EmulatedModel, region: string) {
  return {
    modelArn: modelArn(model, region),
    modelId: model.id,
    modelName: model.alias,
    providerName: 'Anthropic',
    inputModalities: ['TEXT', 'IMAGE'],
    outputModalities: ['TEXT'],
    responseStreamingSupported: true,
    customizationsSupported: [],
    inferenceTypesSupported: model.profileOnly ? ['INFERENCE_PROFILE'] : ['ON_DEMAND', 'INFERENCE_PROFILE'],
    modelLifecycle: {
      status: model.lifecycle === 'legacy' ? 'LEGACY' : 'ACTIVE',
      ...(model.eolDate ? { endOfLifeTime: epochSeconds(model.eolDate) } : {}),
    },
  };
}
