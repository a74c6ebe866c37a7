/** An error of Kendra (awsJson1_1: `__type` in the body) or Bedrock Knowledge Bases (REST-JSON: `x-amzn-ErrorType`). */
export class KnowledgeError extends Error {
  constructor(readonly type: KnowledgeErrorType, message: string) {
    super(message);
  }
}

export type KnowledgeErrorType = 'ResourceNotFoundException' | 'ThrottlingException' | 'ValidationException' | 'AccessDeniedException' | 'InternalServerException';

/** Kendra answers every client error 400; Knowledge Bases uses the REST statuses. */
export const KENDRA_STATUS: Record<KnowledgeErrorType, number> = {
  ResourceNotFoundException: 400,
  ThrottlingException: 400,
  ValidationException: 400,
  AccessDeniedException: 400,
  InternalServerException: 500,
};

export const KNOWLEDGE_BASE_STATUS: Record<KnowledgeErrorType, number> = {
  ResourceNotFoundException: 404,
  ThrottlingException: 429,
  ValidationException: 400,
  AccessDeniedException: 403,
  InternalServerException: 500,
};
