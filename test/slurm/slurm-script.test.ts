/** The Slurm executor's job script and its options (study/slurm/script.ts): what it writes, and what it refuses. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src-main/engine/util/errors';
import { MODELAB_BIN, checkSlurmOptions, sbatchScript, shellWord } from '../../src-main/study/slurm/script';
import { parse } from '../../src-main/cli/args';
import { SLURM_CLI_OPTIONS, hasSlurmOptions, slurmOptionsFrom } from '../../src-main/cli/study-slurm-options';
import { modelab } from '../cli/modelab';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'modelab-slurm-script-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sbatchLines = (script: string): string[] => script.split('\n').filter((l) => l.startsWith('#SBATCH ')).map((l) => l.slice('#SBATCH '.length));

describe('the sbatch script', () => {
  it('holds one array task per cell, every option as its own #SBATCH line, the setup, and the run of cell $i', () => {
    const s = sbatchScript('/shared/study', 4, {
      partition: 'gpu,debug',
      time: '1-02:30:00',
      cpusPerTask: 4,
      gpusPerTask: 1,
      extra: ['--mem=8G', '--account=lab', '--nodelist=node[01-04]', '--constraint=a100|h100'],
      setup: ['module load nodejs/20', 'source ~/venv/bin/activate'],
      command: ['/opt/node/bin/node', '/opt/modelab/bin/modelab.mjs'],
    });
    expect(s.startsWith('#!/bin/bash\n')).toBe(true);
    expect(sbatchLines(s)).toEqual([
      '--job-name=modelab-study',
      '--array=0-3',
      '--output=/shared/study/logs/%A_%a.log',
      '--partition=gpu,debug',
      '--time=1-02:30:00',
      '--cpus-per-task=4',
      '--gpus-per-task=1',
      '--mem=8G',
      '--account=lab',
      '--nodelist=node[01-04]',
      '--constraint=a100|h100',
    ]);
    const lines = s.split('\n');
    // The setup runs before the task's command, and the command runs the cell's recipe into runs/$i.
    const run = lines.findIndex((l) => l.includes(' run --config '));
    expect(lines.indexOf('module load nodejs/20')).toBeGreaterThan(lines.lastIndexOf(lines.find((l) => l.startsWith('#SBATCH'))!));
    expect(lines.indexOf('module load nodejs/20')).toBeLessThan(run);
    expect(lines[run]).toBe('/opt/node/bin/node /opt/modelab/bin/modelab.mjs run --config "cells/$i.json" --no-store --out "runs/$i"');
    expect(s).toContain('export MODELAB_WORKERS="${SLURM_CPUS_PER_TASK:-1}"');
    // The exit code is recorded after the run, under the task's own id.
    expect(lines.findIndex((l) => l.includes('exit/$task'))).toBeGreaterThan(run);
  });

  it('is the script docs/studies-slurm.md shows', () => {
    const doc = readFileSync(path.join(import.meta.dirname, '../../docs/studies-slurm.md'), 'utf8');
    const shown = /```bash\n([\s\S]*?)```/.exec(doc)![1];
    const options = { partition: 'debug', time: '10:00', cpusPerTask: 2, setup: ['module load nodejs/20'], command: ['/usr/bin/node', '/opt/modelab/bin/modelab.mjs'] };
    expect(shown).toBe(sbatchScript('/shared/me/smoke', 4, options));
  });

  it('is valid bash', () => {
    const file = path.join(tmp, 'study.sbatch');
    writeFileSync(file, sbatchScript('/shared/study', 2, { setup: ['true'], command: ['node', "/opt/it's here/modelab.mjs"] }));
    const r = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  it('runs this installation by default, node and bin/modelab.mjs both absolute', () => {
    const { command } = checkSlurmOptions({});
    expect(command).toEqual([process.execPath, MODELAB_BIN]);
    expect(command.every((w) => path.isAbsolute(w))).toBe(true);
  });

  it('quotes words so that each stays one shell word', () => {
    expect(shellWord('/usr/bin/node')).toBe('/usr/bin/node');
    expect(shellWord("a b'c")).toBe(`'a b'\\''c'`);
    const r = spawnSync('bash', ['-c', `printf '%s\\n' ${shellWord("x'; touch /tmp/owned; '")}`], { encoding: 'utf8' });
    expect(r.stdout).toBe("x'; touch /tmp/owned; '\n");
  });

  const refused: [string, Parameters<typeof sbatchScript>[2], RegExp][] = [
    ['a newline in the partition', { partition: 'debug\n#SBATCH --uid=0' }, /partition .* is not a Slurm partition name/],
    ['a malformed time limit', { time: '2 hours' }, /time limit '2 hours' is not one of Slurm's forms/],
    ['zero CPUs', { cpusPerTask: 0 }, /CPUs per task needs a whole number of at least 1, got 0/],
    ['fractional GPUs', { gpusPerTask: 0.5 }, /GPUs per task needs a whole number of at least 0, got 0.5/],
    ['an extra line that is not an option', { extra: ['hostname'] }, /extra #SBATCH option 'hostname' is not one option/],
    ['an extra line with a newline', { extra: ['--mem=1G\nrm -rf /'] }, /is not one option/],
    ['an extra line with a shell expansion', { extra: ['--comment=$(id)'] }, /is not one option/],
    ['an extra --array', { extra: ['--array=0-99'] }, /--array is set by ModeLab itself/],
    ['an extra --output', { extra: ['-o /tmp/x'] }, /-o is set by ModeLab itself/],
    ['a setup line with a newline', { setup: ['module load a\nmodule load b'] }, /setup line 'module load a\\nmodule load b' holds a newline/],
    ['an empty command', { command: [] }, /the modelab command needs at least one word/],
    ['a command word with a newline', { command: ['node\nid'] }, /the modelab command needs/],
    ['a job name with a space', { jobName: 'my study' }, /job name 'my study' may only hold/],
  ];
  for (const [what, options, message] of refused) {
    it(`refuses ${what} with one line`, () => {
      let err: unknown;
      try {
        sbatchScript('/shared/study', 2, options);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toContain('\n');
    });
  }

  it('refuses a study folder that a #SBATCH line cannot carry, and a study without cells', () => {
    expect(() => sbatchScript('/shared/my study', 2, { command: ['modelab'] })).toThrow(/holds a space, newline or control character/);
    expect(() => sbatchScript('/shared/st\nudy', 2, { command: ['modelab'] })).toThrow(/'\/shared\/st\\nudy' holds a space/);
    expect(() => sbatchScript('/shared/study', 0, { command: ['modelab'] })).toThrow(/needs at least one cell, got 0/);
  });
});

describe('the Slurm options of modelab study run', () => {
  const flags = (argv: string[]): Record<string, unknown> => parse(argv, SLURM_CLI_OPTIONS).values;

  it('reads every option', () => {
    const v = flags(['--slurm-dir', '/shared/s', '--partition', 'gpu', '--time', '30:00', '--cpus-per-task', '4', '--gpus-per-task', '1', '--sbatch=--mem=8G', '--sbatch=--account=lab', '--setup', 'module load nodejs', '--slurm-command', '/opt/node /opt/modelab.mjs', '--no-follow']);
    expect(hasSlurmOptions(v)).toBe(true);
    expect(slurmOptionsFrom(v)).toEqual({
      dir: '/shared/s',
      partition: 'gpu',
      time: '30:00',
      cpusPerTask: 4,
      gpusPerTask: 1,
      extra: ['--mem=8G', '--account=lab'],
      setup: ['module load nodejs'],
      command: ['/opt/node', '/opt/modelab.mjs'],
      follow: false,
    });
    expect(hasSlurmOptions(flags([]))).toBe(false);
    expect(slurmOptionsFrom(flags([]))).toMatchObject({ follow: true, command: undefined });
  });

  it('refuses bad values with one line', () => {
    expect(() => slurmOptionsFrom(flags(['--cpus-per-task', '0']))).toThrow('CPUs per task needs a whole number of at least 1, got 0');
    expect(() => slurmOptionsFrom(flags(['--gpus-per-task', 'two']))).toThrow(/--gpus-per-task needs a non-negative integer/);
    expect(() => slurmOptionsFrom(flags(['--slurm-command', '  ']))).toThrow('--slurm-command needs a command');
    expect(() => slurmOptionsFrom(flags(['--sbatch=--wrap=id']))).toThrow(/--wrap is set by ModeLab itself/);
  });
});

describe('modelab study run refuses Slurm options', () => {
  it('without --executor slurm, and a bad one, with one line and exit 2, before anything is stored', async () => {
    const db = path.join(tmp, 'refused.sqlite');
    const a = await modelab(['study', 'run', '--preset', 'smoke-study', '--partition', 'gpu', '--db', db]);
    expect(a.code).toBe(2);
    expect(a.stderr).toBe('modelab: the Slurm options (--partition, --time, --slurm-dir, …) need --executor slurm\n');
    const b = await modelab(['study', 'run', '--preset', 'smoke-study', '--executor', 'slurm', '--partition', 'gpu\n#SBATCH --uid=0', '--db', db]);
    expect(b.code).toBe(2);
    expect(b.stderr).toBe("modelab: partition 'gpu\\n#SBATCH --uid=0' is not a Slurm partition name (letters, digits, '_', '.', '-'; several separated by commas)\n");
    const list = await modelab(['study', 'list', '--json', '--db', db]);
    expect(JSON.parse(list.stdout)).toEqual([]);
  });
});
