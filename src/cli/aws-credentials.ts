import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { AybizaConfig } from '../config/schema.js';
import { isLoopbackEndpoint } from '../memory/create.js';
import { StartupError } from './startup-error.js';

/**
 * Resolves the SDK's credential chain once before the node starts, when anything will call AWS, so
 * missing credentials stop the start with what to set instead of failing the first turn of the
 * first call ("Sorry, I'm having trouble right now"). Resolving reads the environment, the shared
 * files and the instance/container metadata; it signs nothing and calls no AWS service.
 */
export async function checkAwsCredentials(config: AybizaConfig): Promise<void> {
  const services = [
    ...(config.bedrock.mode === 'aws' ? ['Bedrock (AYBIZA_BEDROCK=aws)'] : []),
    // A DynamoDB on this machine (dynalite, DynamoDB Local) takes any credentials.
    ...(config.memory.durable === 'aws' && !isLoopbackEndpoint(config.memory.dynamoEndpoint) ? ['DynamoDB (AYBIZA_DURABLE_MEMORY=aws)'] : []),
    ...(config.tools.awsMode === 'aws' && usesAwsTools(config) ? ['the tool backends (tools.awsMode aws: Lambda, Kendra, Knowledge Bases)'] : []),
  ];
  if (services.length === 0) return;
  try {
    await defaultProvider()();
  } catch (error) {
    const fallback = config.bedrock.mode === 'aws' ? '; or answer with the embedded emulator: AYBIZA_BEDROCK=emulator' : '; or keep memory on this machine: AYBIZA_DURABLE_MEMORY=embedded';
    throw new StartupError(
      `no AWS credentials found for ${services.join(' and ')}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary ones), or AWS_PROFILE naming a profile in ~/.aws/credentials or ~/.aws/config${fallback}`,
      { cause: error },
    );
  }
}

/** execute_code, an agent's knowledge base or a Lambda connector: tools that call AWS in aws mode. */
function usesAwsTools(config: AybizaConfig): boolean {
  return Object.values(config.agents).some((agent) => agent.tools.includes('execute_code') || agent.knowledgeBase !== undefined)
    || config.tools.connectors.some((connector) => connector.backend.type === 'lambda');
}
