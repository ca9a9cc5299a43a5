/** `--workers N` on run and serve (and MODELAB_WORKERS): a bad count is one line and exit code 2, before anything runs. */
import { afterEach, describe, expect, it } from 'vitest';
import { modelab } from './modelab';

afterEach(() => {
  delete process.env['MODELAB_WORKERS'];
});

describe('--workers', () => {
  it('a count that is not a positive integer: one line naming it, exit 2, nothing run', async () => {
    const cases: [string[], string | undefined, RegExp][] = [
      [['run', '--preset', 'smoke', '--no-store', '--workers', '0'], undefined, /--workers must be a positive integer/],
      [['serve', '--port', '0', '--workers', 'all'], undefined, /--workers must be a positive integer/],
      [['run', '--preset', 'smoke', '--no-store'], '-2', /MODELAB_WORKERS must be a positive integer/],
    ];
    for (const [args, env, message] of cases) {
      if (env === undefined) delete process.env['MODELAB_WORKERS'];
      else process.env['MODELAB_WORKERS'] = env;
      const r = await modelab(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });
});
