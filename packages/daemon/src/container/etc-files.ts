/** The per-container /etc/hostname, /etc/hosts and /etc/resolv.conf, bind-mounted as Docker's. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { DockerConfig, DockerHostConfig } from '../config/docker-types.js';

const DEFAULT_HOSTS = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

const read = (p: string): string => {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
};

export function hostsFile(c: DockerConfig, h: DockerHostConfig): string {
  if (h.NetworkMode === 'host') return read('/etc/hosts') + (h.ExtraHosts ?? []).map(extra).join('');
  const lines = [...DEFAULT_HOSTS];
  for (const e of h.ExtraHosts ?? []) lines.push(extra(e).trimEnd());
  if (c.Hostname) lines.push(`127.0.1.1\t${c.Hostname}${c.Domainname ? `.${c.Domainname} ${c.Hostname}` : ''}`);
  return lines.join('\n') + '\n';
}

function extra(e: string): string {
  const i = e.indexOf(':');
  return `${e.slice(i + 1)}\t${e.slice(0, i)}\n`;
}

/**
 * Docker's resolv.conf: the host's, without loopback name servers (they mean nothing in the
 * container's own network namespace), Google's when none is left; --dns/--dns-search/--dns-option
 * replace their parts.
 */
export function resolvConf(h: DockerHostConfig, hostText = read('/etc/resolv.conf')): string {
  const lines = hostText.split('\n');
  const own = h.NetworkMode === 'host';
  let ns = lines.filter((l) => /^\s*nameserver\s/.test(l)).map((l) => l.trim().split(/\s+/)[1]!);
  if (!own) ns = ns.filter((a) => !/^127\./.test(a) && a !== '::1');
  if (h.Dns.length) ns = [...h.Dns];
  if (ns.length === 0) ns = ['8.8.8.8', '8.8.4.4'];
  const search = h.DnsSearch.length ? h.DnsSearch : lines.filter((l) => /^\s*search\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  const options = h.DnsOptions.length ? h.DnsOptions : lines.filter((l) => /^\s*options\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  return [
    ...ns.map((n) => `nameserver ${n}`),
    ...(search.length ? [`search ${search.join(' ')}`] : []),
    ...(options.length ? [`options ${options.join(' ')}`] : []),
  ].join('\n') + '\n';
}

export function writeEtcFiles(c: DockerConfig, h: DockerHostConfig, paths: { hostname: string; hosts: string; resolv: string }): void {
  writeFileSync(paths.hostname, `${c.Hostname}\n`);
  writeFileSync(paths.hosts, hostsFile(c, h));
  writeFileSync(paths.resolv, resolvConf(h));
}
