// The Lambda handler behind `execute_code` in the emulator: evaluates small arithmetic and date
// expressions with a parser of its own, never eval (the sandbox also runs it with code generation
// from strings disabled). Event: {code, language: "expression", today?: "YYYY-MM-DD"}.
// Answers {result, kind} or throws ExpressionError, which Lambda returns as a function error.

const MAX_CODE_CHARS = 500;
const DAY_MS = 86_400_000;
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const FUNCTIONS = { sqrt: Math.sqrt, round: Math.round, abs: Math.abs, floor: Math.floor, ceil: Math.ceil };
const UNITS = { day: 1, days: 1, week: 7, weeks: 7 };

class ExpressionError extends Error {
  name = 'ExpressionError';
}

/** Spoken phrasings of the operators, so "what is 15 percent of 200" reads like "15 % of 200". */
const PHRASES = [
  [/^\s*(what\s+is|what's|whats|calculate|compute|how\s+much\s+is|work\s+out)\s+/i, ''],
  [/[?.!\s]+$/, ''],
  [/\bmultiplied\s+by\b|\btimes\b/gi, '*'],
  [/\bdivided\s+by\b|\bover\b/gi, '/'],
  [/\bplus\b/gi, '+'],
  [/\bminus\b/gi, '-'],
  [/\bpercent\b/gi, '%'],
  [/(\d),(\d{3})\b/g, '$1$2'],
];

function tokenize(source) {
  const tokens = [];
  const pattern = /\s*(?:(\d{4}-\d{2}-\d{2})|(\d+(?:\.\d+)?|\.\d+)|([a-zA-Z]+)|([-+*/^%(),×÷]))/y;
  let position = 0;
  while (position < source.length) {
    pattern.lastIndex = position;
    const match = pattern.exec(source);
    if (!match) {
      if (/^\s*$/.test(source.slice(position))) break;
      throw new ExpressionError(`unexpected character ${JSON.stringify(source.slice(position).trim()[0])} at position ${position + 1}`);
    }
    position = pattern.lastIndex;
    if (match[1]) tokens.push({ type: 'date', value: match[1] });
    else if (match[2]) tokens.push({ type: 'number', value: Number(match[2]) });
    else if (match[3]) tokens.push(match[3].toLowerCase() === 'x' ? { type: 'op', value: '*' } : { type: 'word', value: match[3].toLowerCase() });
    else tokens.push({ type: 'op', value: { '×': '*', '÷': '/' }[match[4]] ?? match[4] });
  }
  return tokens;
}

const number = (n) => ({ kind: 'number', n });
const date = (days) => ({ kind: 'date', days });
const duration = (days) => ({ kind: 'duration', days });

function parseDate(text) {
  const ms = Date.parse(`${text}T00:00:00Z`);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== text) throw new ExpressionError(`${text} is not a date`);
  return date(ms / DAY_MS);
}

function evaluate(source, today) {
  const tokens = tokenize(source);
  let index = 0;
  const peek = () => tokens[index];
  const isOp = (value) => peek()?.type === 'op' && peek().value === value;
  const isWord = (value) => peek()?.type === 'word' && peek().value === value;
  const expect = (value) => {
    if (!isOp(value)) throw new ExpressionError(`expected "${value}"`);
    index += 1;
  };

  const arithmetic = (op, left, right) => {
    if (left.kind === 'number' && right.kind === 'number') {
      if (op === '/' && right.n === 0) throw new ExpressionError('division by zero');
      return number({ '+': left.n + right.n, '-': left.n - right.n, '*': left.n * right.n, '/': left.n / right.n, '^': left.n ** right.n }[op]);
    }
    if (op === '+' && left.kind === 'date' && right.kind === 'duration') return date(left.days + right.days);
    if (op === '+' && left.kind === 'duration' && right.kind === 'date') return date(left.days + right.days);
    if (op === '-' && left.kind === 'date' && right.kind === 'duration') return date(left.days - right.days);
    if (op === '-' && left.kind === 'date' && right.kind === 'date') return duration(left.days - right.days);
    if ((op === '+' || op === '-') && left.kind === 'duration' && right.kind === 'duration') return duration(op === '+' ? left.days + right.days : left.days - right.days);
    if (op === '*' && left.kind === 'number' && right.kind === 'duration') return duration(left.n * right.days);
    if (op === '*' && left.kind === 'duration' && right.kind === 'number') return duration(left.days * right.n);
    throw new ExpressionError(`cannot apply "${op}" to a ${left.kind} and a ${right.kind}`);
  };

  const primary = () => {
    const token = peek();
    if (!token) throw new ExpressionError('the expression ends too early');
    index += 1;
    if (token.type === 'number') {
      const unit = peek()?.type === 'word' ? UNITS[peek().value] : undefined;
      if (unit === undefined) return number(token.value);
      index += 1;
      return duration(token.value * unit);
    }
    if (token.type === 'date') return parseDate(token.value);
    if (token.type === 'op' && token.value === '(') {
      const value = expression();
      expect(')');
      return value;
    }
    if (token.type === 'word') {
      if (token.value === 'today') return date(today);
      if (token.value === 'tomorrow') return date(today + 1);
      if (token.value === 'yesterday') return date(today - 1);
      const fn = FUNCTIONS[token.value];
      if (fn) {
        expect('(');
        const argument = expression();
        expect(')');
        if (argument.kind !== 'number') throw new ExpressionError(`${token.value} takes a number`);
        return number(fn(argument.n));
      }
    }
    throw new ExpressionError(`unexpected ${JSON.stringify(token.value)}`);
  };

  const postfix = () => {
    let value = primary();
    while (isOp('%')) {
      index += 1;
      if (value.kind !== 'number') throw new ExpressionError('% takes a number');
      value = number(value.n / 100);
    }
    return value;
  };

  const power = () => {
    const base = postfix();
    if (!isOp('^')) return base;
    index += 1;
    return arithmetic('^', base, unary());
  };

  const unary = () => {
    if (isOp('-')) {
      index += 1;
      return arithmetic('*', number(-1), unary());
    }
    if (isOp('+')) index += 1;
    return power();
  };

  const term = () => {
    let value = unary();
    for (;;) {
      if (isOp('*') || isOp('/')) {
        const op = peek().value;
        index += 1;
        value = arithmetic(op, value, unary());
      } else if (isWord('of')) {
        index += 1;
        value = arithmetic('*', value, unary());
      } else {
        return value;
      }
    }
  };

  function expression() {
    let value = term();
    while (isOp('+') || isOp('-')) {
      const op = peek().value;
      index += 1;
      value = arithmetic(op, value, term());
    }
    return value;
  }

  const value = expression();
  if (index < tokens.length) throw new ExpressionError(`unexpected ${JSON.stringify(String(tokens[index].value))} after the expression`);
  return value;
}

/** 0.1 + 0.2 is spoken "0.3": twelve significant digits, no trailing zeros. */
const formatNumber = (n) => {
  if (!Number.isFinite(n)) throw new ExpressionError('the result is not a finite number');
  return String(Number.parseFloat(n.toPrecision(12)));
};

function describe(value) {
  if (value.kind === 'number') return { result: formatNumber(value.n), kind: 'number' };
  if (value.kind === 'duration') return { result: `${formatNumber(value.days)} days`, kind: 'duration' };
  const day = new Date(Math.round(value.days) * DAY_MS);
  return { result: day.toISOString().slice(0, 10), weekday: WEEKDAYS[day.getUTCDay()], kind: 'date' };
}

export async function handler(event) {
  const code = event?.code;
  const language = event?.language ?? 'expression';
  if (language !== 'expression') throw new ExpressionError(`language ${JSON.stringify(language)} is not supported: only "expression" (arithmetic and dates)`);
  if (typeof code !== 'string' || code.trim() === '') throw new ExpressionError('code must be a non-empty string');
  if (code.length > MAX_CODE_CHARS) throw new ExpressionError(`code is longer than ${MAX_CODE_CHARS} characters`);
  const todayText = typeof event.today === 'string' ? event.today : new Date().toISOString().slice(0, 10);
  const today = parseDate(todayText).days;
  const source = PHRASES.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), code);
  return { expression: source, ...describe(evaluate(source, today)) };
}
