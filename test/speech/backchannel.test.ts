import { describe, expect, it } from 'vitest';
import { BackchannelFilter } from '../../src/speech/backchannel.js';

describe('backchannels', () => {
  const filter = new BackchannelFilter();

  it('takes short acknowledgements for backchannels', () => {
    for (const text of ['mhm', 'Uh-huh.', 'okay', 'Right, right.', 'yeah okay', 'I see', 'Mm-hmm']) expect(filter.isBackchannel(text)).toBe(true);
  });

  it('takes anything longer or with another word for a barge-in', () => {
    for (const text of ['okay but what about Tuesday', 'no', 'wait', 'yeah I have a question', '', 'okay okay okay okay']) expect(filter.isBackchannel(text)).toBe(false);
  });

  it('uses an agent\'s own list', () => {
    const spanish = new BackchannelFilter(['sí', 'vale', 'ajá']);
    expect(spanish.isBackchannel('Vale, ajá')).toBe(true);
    expect(spanish.isBackchannel('okay')).toBe(false);
  });
});
