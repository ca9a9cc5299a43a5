/** Argument parsing with one-line errors (exit 2) for unknown or malformed options. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError } from '../engine/util/errors';

export type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `--opt -1` as `--opt=-1` for options that take a value: node's parser calls a value starting with a dash
 * "ambiguous", and the option's own check then says what it accepts.
 */
function joinDashValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.startsWith('--') ? a.slice(2) : undefined;
    const next = argv[i + 1];
    if (name && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

export function parse(argv: string[], options: Options, allowPositionals = false): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args: joinDashValues(argv, options), options, allowPositionals, strict: true });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    throw new InputError((e as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, ''));
  }
}

/** A whole number of 0 or more, written in digits (no sign, exponent, hex or blanks); undefined when absent. */
export function intOption(v: string | boolean | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || !Number.isSafeInteger(n)) {
    const got = typeof v !== 'string' || v === '' ? 'nothing' : `'${v}'`;
    throw new InputError(`--${name} needs a non-negative integer (digits only: negative numbers are not allowed), got ${got}`);
  }
  return n;
}
