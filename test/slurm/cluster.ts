/**
 * A real single-node Slurm cluster for the tests (Debian's slurmctld, slurmd, slurm-client and munge): this machine
 * is both controller and compute node. Needs root; `.ci/run` installs the packages. Everything the cluster writes
 * (pid files, state, spool, logs, slurm.conf) lives in one fixed folder, so that a run left behind by a killed test
 * is found and stopped the next time — by the pid files in that folder only, never by process name.
 *
 * Set SLURM_CONF to `conf` (startCluster does it for this process) for sbatch, squeue, sacct and scontrol.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Cluster {
  /** The slurm.conf the daemons run with. */
  conf: string;
  /** The node's (and partition's) name. */
  node: string;
  /** Stops slurmd and slurmctld (and munged if this helper started it), by pid. */
  stop(): void;
}

const HOME = path.join(os.tmpdir(), 'modelab-slurm-test');
// Not Slurm's default ports (6817, 6818): a cluster this machine already belongs to is left alone.
const PORTS = { slurmctld: 6917, slurmd: 6918 };
const MUNGE_KEY = '/etc/munge/munge.key';
const MUNGE_PID = path.join(HOME, 'munged.pid');

const sleep = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function need(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('the Slurm tests start a single-node cluster and need root (CI runs as root): run them as root');
  }
  const missing = ['slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol', 'munged'].filter((c) => spawnSync('sh', ['-c', `command -v ${c}`], { env: { PATH: `${process.env['PATH']}:/usr/sbin:/sbin` } }).status !== 0);
  if (missing.length) throw new Error(`the Slurm tests need ${missing.join(', ')}: apt-get install slurmctld slurmd slurm-client munge (.ci/run does)`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid in `file` when that process is alive and is `name` (a recycled pid is left alone). */
function pidIn(file: string, name: string): number | null {
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isSafeInteger(pid) || pid <= 1 || !alive(pid)) return null;
  const cmd = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
  return cmd.includes(name) ? pid : null;
}

/** Stops the daemons named by their pid files ([file, process name]): SIGTERM to all at once, SIGKILL after 10 s. */
function stopPids(daemons: [string, string][]): void {
  const pids = daemons.map(([file, name]) => pidIn(file, name)).filter((p) => p !== null);
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && pids.some(alive); i++) sleep(100);
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
  for (const [file] of daemons) rmSync(file, { force: true });
}

const mungeWorks = (): boolean => spawnSync('sh', ['-c', 'munge -n | unmunge'], { stdio: 'ignore' }).status === 0;

/** munged with the machine's key (made if missing: 1 KiB random, owner munge, mode 400); true if started here. */
function startMunge(): boolean {
  if (!existsSync(MUNGE_KEY)) {
    mkdirSync(path.dirname(MUNGE_KEY), { recursive: true });
    execFileSync('sh', ['-c', `umask 077 && head -c 1024 /dev/urandom > ${MUNGE_KEY} && chown munge:munge ${MUNGE_KEY} && chmod 400 ${MUNGE_KEY}`]);
  }
  // One this helper started before (its pid file is ours) is reused, and stopped at the end like a new one.
  if (pidIn(MUNGE_PID, 'munged') !== null && mungeWorks()) return true;
  if (mungeWorks()) return false;
  execFileSync('sh', ['-c', 'mkdir -p /run/munge && chown munge:munge /run/munge']);
  execFileSync('/usr/sbin/munged', ['--force', `--pid-file=${MUNGE_PID}`, `--log-file=${path.join(HOME, 'munged.log')}`]);
  for (let i = 0; i < 50 && !mungeWorks(); i++) sleep(100);
  if (!mungeWorks()) throw new Error('munged started but munge -n | unmunge fails');
  return true;
}

function slurmConf(node: string): string {
  const p = (f: string): string => path.join(HOME, f);
  return `ClusterName=modelabtest
SlurmctldHost=${node}
SlurmctldPort=${PORTS.slurmctld}
SlurmdPort=${PORTS.slurmd}
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=${p('state')}
SlurmdSpoolDir=${p('spool')}
SlurmctldPidFile=${p('slurmctld.pid')}
SlurmdPidFile=${p('slurmd.pid')}
SlurmctldLogFile=${p('log/slurmctld.log')}
SlurmdLogFile=${p('log/slurmd.log')}
NodeName=${node} CPUs=${os.availableParallelism()} RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
`;
}

/** Starts a fresh cluster (stopping one a previous test run left), waits until its node is idle. */
export function startCluster(): Cluster {
  need();
  const conf = path.join(HOME, 'slurm.conf');
  const daemons: [string, string][] = [
    [path.join(HOME, 'slurmd.pid'), 'slurmd'],
    [path.join(HOME, 'slurmctld.pid'), 'slurmctld'],
  ];
  stopPids(daemons);
  // A fresh controller state every time: no jobs of an earlier run.
  for (const d of ['state', 'spool', 'log']) rmSync(path.join(HOME, d), { recursive: true, force: true });
  for (const d of ['state', 'spool', 'log']) mkdirSync(path.join(HOME, d), { recursive: true });
  const node = execFileSync('hostname', ['-s'], { encoding: 'utf8' }).trim();
  writeFileSync(conf, slurmConf(node));
  const startedMunge = startMunge();
  process.env['SLURM_CONF'] = conf;
  const stop = (): void => stopPids([...daemons, ...(startedMunge ? [[MUNGE_PID, 'munged'] as [string, string]] : [])]);
  try {
    execFileSync('/usr/sbin/slurmctld', ['-f', conf]);
    execFileSync('/usr/sbin/slurmd', ['-f', conf]);
    let state = '';
    for (let i = 0; i < 300 && state !== 'idle'; i++) {
      if (i) sleep(100);
      state = spawnSync('sinfo', ['--noheader', '--format=%T', `--nodes=${node}`], { encoding: 'utf8' }).stdout?.trim() ?? '';
    }
    if (state !== 'idle') {
      const log = (f: string): string => (existsSync(path.join(HOME, 'log', f)) ? readFileSync(path.join(HOME, 'log', f), 'utf8').split('\n').slice(-5).join(' | ') : '(no log)');
      throw new Error(`the Slurm node never became idle (sinfo: '${state}'); slurmctld: ${log('slurmctld.log')}; slurmd: ${log('slurmd.log')}`);
    }
  } catch (e) {
    stop();
    throw e;
  }
  return { conf, node, stop };
}
