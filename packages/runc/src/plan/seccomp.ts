import { InvalidArgumentError, NotImplementedError } from '../errors.js';
import type { Seccomp } from '../spec/types.js';
import type { PlanRecord } from './records.js';

const ACTIONS = new Set([
  'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG',
]);
const OPERATORS = new Set(['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ']);
const FLAGS = new Set(['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC']);
const EPERM = 1;

export const SECCOMP_ACTIONS = [...ACTIONS];
export const SECCOMP_OPERATORS = [...OPERATORS];

/** OCI architecture names (SCMP_ARCH_X86_64) as libseccomp resolves them (x86_64). */
function archName(arch: string): string {
  if (!arch.startsWith('SCMP_ARCH_')) throw new InvalidArgumentError(`seccomp: unknown architecture ${arch}`);
  return arch.slice('SCMP_ARCH_'.length).toLowerCase();
}

function checkAction(action: string): void {
  if (action === 'SCMP_ACT_NOTIFY') throw new NotImplementedError('seccomp: SCMP_ACT_NOTIFY is not supported');
  if (!ACTIONS.has(action)) throw new InvalidArgumentError(`seccomp: unknown action ${JSON.stringify(action)}`);
}

/**
 * Turns the spec's seccomp section into plan records for libseccomp. As runc does: rules
 * whose action is the default are dropped (libseccomp refuses them), and a rule that tests
 * the same argument twice becomes one rule per test (libseccomp allows one test per argument).
 */
export function seccompRecords(seccomp: Seccomp | undefined): PlanRecord[] {
  if (!seccomp) return [];
  checkAction(seccomp.defaultAction);
  const defaultErrno = seccomp.defaultErrnoRet ?? EPERM;
  const records: PlanRecord[] = [['seccomp-default', seccomp.defaultAction, defaultErrno]];
  for (const arch of seccomp.architectures ?? []) records.push(['seccomp-arch', archName(arch)]);
  for (const flag of seccomp.flags ?? []) {
    if (!FLAGS.has(flag)) throw new InvalidArgumentError(`seccomp: unknown flag ${flag}`);
    if (flag !== 'SECCOMP_FILTER_FLAG_TSYNC') records.push(['seccomp-flag', flag]); // one thread: TSYNC is moot
  }
  for (const rule of seccomp.syscalls ?? []) {
    checkAction(rule.action);
    const errno = rule.errnoRet ?? EPERM;
    if (rule.action === seccomp.defaultAction && (rule.action !== 'SCMP_ACT_ERRNO' || errno === defaultErrno)) continue;
    const args = rule.args ?? [];
    for (const arg of args) {
      if (!OPERATORS.has(arg.op)) throw new InvalidArgumentError(`seccomp: unknown operator ${JSON.stringify(arg.op)}`);
      if (!Number.isInteger(arg.index) || arg.index < 0 || arg.index > 5) throw new InvalidArgumentError(`seccomp: argument index ${arg.index} is out of 0..5`);
    }
    const indexes = args.map((a) => a.index);
    const repeated = new Set(indexes).size !== indexes.length;
    const groups = repeated ? args.map((a) => [a]) : [args];
    for (const name of rule.names ?? []) {
      for (const group of groups) {
        const conditions = group.flatMap((a) => [a.index, a.op, BigInt.asUintN(64, BigInt(a.value)), BigInt.asUintN(64, BigInt(a.valueTwo ?? 0))]);
        records.push(['seccomp-rule', rule.action, errno, name, ...conditions]);
      }
    }
  }
  return records;
}
