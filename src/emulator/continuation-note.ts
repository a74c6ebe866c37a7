/**
 * A client asking a model that refuses prefill to go on from words already spoken puts this note in
 * the caller's message (the note src/llm/prompt.ts writes): the words it quotes are a prefill, not
 * the caller speaking.
 */
export const CONTINUATION_NOTE = /^\[You had already said this to the caller before the line broke: "([\s\S]*)" Continue from exactly there, without repeating any of it\.\]$/;
