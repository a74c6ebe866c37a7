import type { FaultRates, Faults } from './script.js';

export type PreStreamFault =
  | 'throttle' | 'notReady' | 'serviceUnavailable' | 'accessDenied' | 'resourceNotFound' | 'modelTimeout' | 'modelError' | 'serviceQuotaExceeded';
export type StreamFault =
  | 'midStreamError' | 'inStreamThrottle' | 'inStreamInternalError' | 'inStreamUnavailable' | 'inStreamValidation' | 'stall' | 'corrupt';
export type Fault = PreStreamFault | StreamFault;

export const DEFAULT_STALL_MS = 10_000;

/** The rates that apply to one request: the script's, overridden field by field by matching byModel, then byRegion entries. */
export function faultRatesFor(faults: Faults | undefined, modelId: string, region: string): FaultRates {
  if (!faults) return {};
  const { byModel, byRegion, ...base } = faults;
  const rates: FaultRates = { ...base };
  for (const [fragment, override] of Object.entries(byModel ?? {})) {
    if (modelId.includes(fragment)) Object.assign(rates, override);
  }
  const regional = byRegion?.[region];
  if (regional) Object.assign(rates, regional);
  return rates;
}

const PRE_STREAM: Array<[PreStreamFault, keyof FaultRates]> = [
  ['throttle', 'throttleRate'],
  ['notReady', 'notReadyRate'],
  ['serviceUnavailable', 'serviceUnavailableRate'],
  ['accessDenied', 'accessDeniedRate'],
  ['resourceNotFound', 'resourceNotFoundRate'],
  ['modelTimeout', 'modelTimeoutRate'],
  ['modelError', 'modelErrorRate'],
  ['serviceQuotaExceeded', 'serviceQuotaExceededRate'],
];

export const isPreStreamFault = (fault: Fault): fault is PreStreamFault => PRE_STREAM.some(([name]) => name === fault);

const IN_STREAM: Array<[StreamFault, keyof FaultRates]> = [
  ['midStreamError', 'midStreamErrorRate'],
  ['inStreamThrottle', 'inStreamThrottleRate'],
  ['inStreamInternalError', 'inStreamInternalErrorRate'],
  ['inStreamUnavailable', 'inStreamUnavailableRate'],
  ['inStreamValidation', 'inStreamValidationRate'],
  ['corrupt', 'corruptRate'],
  ['stall', 'stallRate'],
];

/**
 * Draws at most one fault for a request. The RNG is consulted only for non-zero rates, so a
 * script without faults leaves the sequence (and so TTFTs and ids) untouched.
 */
export function drawFault(rates: FaultRates, random: () => number, streaming: boolean): Fault | undefined {
  const candidates = streaming ? [...PRE_STREAM, ...IN_STREAM] : PRE_STREAM;
  for (const [fault, key] of candidates) {
    const rate = rates[key] ?? 0;
    if (rate > 0 && random() < rate) return fault;
  }
  return undefined;
}
