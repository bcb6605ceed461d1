import { describe, expect, it } from 'vitest';
import {
  BufferSource,
  Lexer,
  PdfDict,
  PdfError,
  PdfName,
  PdfReal,
  PdfRef,
  PdfString,
  type PdfValue,
  parseValue,
  serialize,
} from '../../src/pdf/index.ts';

const parse = (s: string): PdfValue => parseValue(new Lexer(new BufferSource(Buffer.from(s, 'latin1'))));
const text = (v: PdfValue): string => Buffer.from(serialize(v)).toString('latin1');

describe('parser (ISO 32000-1 §7.2–7.3)', () => {
  it('keeps integers and reals apart and round-trips them', () => {
    const v = parse('[1 -2 3.5 612.0 .5 -.25 +7]') as PdfValue[];
    expect(v[0]).toBe(1);
    expect(v[1]).toBe(-2);
    expect(v[2]).toBeInstanceOf(PdfReal);
    expect(text(v)).toBe('[1 -2 3.5 612.0 0.5 -0.25 7]');
  });

  it('writes reals without exponent', () => {
    expect(text(1e-7)).toBe('0.0000001');
    expect(text(new PdfReal(1e20))).toBe('100000000000000000000.0');
  });

  it('reads references, dictionaries, names with # escapes, and writes names escaped', () => {
    const d = parse('<< /Type /Sig /A#20B 12 0 R /K [ 1 0 R 5 ] /N null >>') as PdfDict;
    expect(d.getName('Type')).toBe('Sig');
    expect(d.get('A B')).toEqual(new PdfRef(12, 0));
    expect(d.has('N')).toBe(false); // §7.3.7: a null value is the same as an absent key
    expect((d.get('K') as PdfValue[])[1]).toBe(5);
    expect(text(PdfName.of('A B#(x)'))).toBe('/A#20B#23#28x#29');
  });

  it('decodes literal-string escapes and re-escapes delimiters', () => {
    const s = parse('(a\\(b\\)c\\\\ \\101\\n (nested) \\\r\nend)') as PdfString;
    expect(Buffer.from(s.bytes).toString('latin1')).toBe('a(b)c\\ A\n (nested) end');
    expect(text(s)).toBe('(a\\(b\\)c\\\\ A\n \\(nested\\) end)');
    expect(parse(text(s))).toEqual(s);
  });

  it('reads hex strings (odd digit count padded with 0) and keeps the hex form', () => {
    const s = parse('<48 65 6C6C 6F 7>') as PdfString;
    expect(Buffer.from(s.bytes).toString('latin1')).toBe('Hello\x70');
    expect(s.hex).toBe(true);
    expect(text(s)).toBe('<48656C6C6F70>');
  });

  it('reads long hex strings (signature /Contents) past the read window, in either case, and refuses bad digits', () => {
    const bytes = Uint8Array.from({ length: 50_000 }, (_, i) => (i * 7919) % 256);
    const hex = Buffer.from(bytes).toString('hex');
    for (const digits of [hex, hex.toUpperCase()]) {
      const s = (parse(`[<${digits}> 7]`) as PdfValue[])[0] as PdfString;
      expect(Buffer.from(s.bytes).equals(Buffer.from(bytes))).toBe(true);
    }
    // White space anywhere in it takes the byte-by-byte path, with the same result.
    const spaced = (parse(`<${hex.slice(0, 40_000)}\n${hex.slice(40_000)}>`) as PdfString).bytes;
    expect(Buffer.from(spaced).equals(Buffer.from(bytes))).toBe(true);
    expect(() => parse(`<${hex.slice(0, 30_000)}G0${hex.slice(30_002)}>`)).toThrow(/bad character in hex string/);
    expect(() => parse(`<${hex}`)).toThrow(/unterminated hex string/);
  });

  it('decodes UTF-16BE text strings', () => {
    expect(PdfString.fromText('Chứng thực').toText()).toBe('Chứng thực');
    expect(PdfString.fromText('plain').bytes.length).toBe(5);
  });

  it('round-trips a dictionary in key order', () => {
    const d = new PdfDict([
      ['Z', 1],
      ['A', [true, false, null]],
      ['S', new PdfString(Uint8Array.from([0, 255]), true)],
    ]);
    expect(text(d)).toBe('<</Z 1/A [true false null]/S <00FF>>>'.replace('/A [', '/A ['));
    expect(parse(text(d))).toEqual(d);
  });

  it('bounds nesting depth with a typed error', () => {
    const deep = '['.repeat(100_000);
    try {
      parse(deep);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PdfError);
      expect((e as PdfError).code).toBe('pdf-limit-exceeded');
      expect((e as PdfError).status).toBe(422);
    }
    expect(() => parse('<<'.repeat(1000))).toThrowError(PdfError);
  });

  it('rejects unterminated or stray tokens as pdf-malformed', () => {
    for (const bad of ['(abc', '<414', '[1 2', '<< /A 1', ')', 'endobj', '<< 1 2 >>']) {
      expect(() => parse(bad), bad).toThrowError(PdfError);
    }
  });
});
