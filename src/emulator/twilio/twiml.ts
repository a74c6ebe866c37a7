/** A TwiML element: its name, attributes, child elements and text. */
export interface TwimlNode {
  name: string;
  attributes: Record<string, string>;
  children: TwimlNode[];
  text: string;
}

export class TwimlError extends Error {}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const decodeEntities = (text: string): string =>
  text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, entity: string) =>
    entity.startsWith('#x') ? String.fromCodePoint(Number.parseInt(entity.slice(2), 16))
      : entity.startsWith('#') ? String.fromCodePoint(Number(entity.slice(1)))
        : ENTITIES[entity.toLowerCase()]!);

/**
 * The `<Response>` of a TwiML document, parsed strictly enough to fail as Twilio does on a
 * document that is not well-formed (Twilio answers such a call with an "application error").
 */
export function parseTwiml(xml: string): TwimlNode {
  const text = xml.replace(/^\uFEFF/, '').replace(/<\?xml[^?]*\?>/, '').replace(/<!--[\s\S]*?-->/g, '');
  const root: TwimlNode = { name: '#document', attributes: {}, children: [], text: '' };
  const stack: TwimlNode[] = [root];
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g;
  let at = 0;
  for (let match = tag.exec(text); match; match = tag.exec(text)) {
    const between = text.slice(at, match.index);
    if (between.includes('<')) throw new TwimlError(`malformed TwiML near ${JSON.stringify(between.slice(0, 40))}`);
    stack.at(-1)!.text += decodeEntities(between);
    at = tag.lastIndex;
    const [, closing, name, rawAttributes, selfClosing] = match;
    if (closing) {
      const open = stack.pop();
      if (!open || open.name !== name || stack.length === 0) throw new TwimlError(`unbalanced </${name}>`);
      continue;
    }
    const attributes: Record<string, string> = {};
    for (const attribute of rawAttributes!.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      attributes[attribute[1]!] = decodeEntities(attribute[2] ?? attribute[3] ?? '');
    }
    const node: TwimlNode = { name: name!, attributes, children: [], text: '' };
    stack.at(-1)!.children.push(node);
    if (!selfClosing) stack.push(node);
  }
  if (text.slice(at).includes('<') || stack.length !== 1) throw new TwimlError('TwiML is not well-formed');
  const response = root.children[0];
  if (response?.name !== 'Response' || root.children.length !== 1) throw new TwimlError('TwiML must have one <Response> root');
  return response;
}
