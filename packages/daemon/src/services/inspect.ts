/** Docker's inspect documents (ContainerJSON, image inspect), from berthd's records. */
import type { ContainerRecord } from '../container/record.js';
import type { ImageRecord } from '../images/record.js';

export function containerJSON(c: ContainerRecord, execIds: string[]): Record<string, unknown> {
  const { Memory, MemorySwap, MemoryReservation, NanoCpus, CpuShares, CpuPeriod, CpuQuota, CpusetCpus, CpusetMems, PidsLimit, Ulimits, Devices, OomKillDisable, BlkioWeight, ...rest } = c.HostConfig;
  const net = c.HostConfig.NetworkMode === 'host' ? 'host' : 'none';
  return {
    Id: c.Id,
    Created: c.Created,
    Path: c.Path,
    Args: c.Args,
    State: { ...c.State },
    Image: c.Image,
    ResolvConfPath: c.ResolvConfPath,
    HostnamePath: c.HostnamePath,
    HostsPath: c.HostsPath,
    LogPath: c.LogPath,
    Name: c.Name,
    RestartCount: c.RestartCount,
    Driver: c.Driver,
    Platform: c.Platform,
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: execIds.length ? execIds : null,
    HostConfig: {
      ...rest,
      Memory, MemorySwap, MemoryReservation, NanoCpus, CpuShares, CpuPeriod, CpuQuota, CpusetCpus, CpusetMems,
      PidsLimit, Ulimits, Devices, OomKillDisable, BlkioWeight,
    },
    GraphDriver: {
      Data: { LowerDir: c.rootfs.lower, UpperDir: c.rootfs.upper, WorkDir: c.rootfs.work, MergedDir: c.rootfs.merged },
      Name: 'overlay',
    },
    Mounts: (c.HostConfig.Binds ?? []).map((b) => {
      const [src, dst, mode = ''] = b.split(':');
      return { Type: 'bind', Source: src, Destination: dst, Mode: mode, RW: !mode.split(',').includes('ro'), Propagation: 'rprivate' };
    }),
    Config: c.Config,
    NetworkSettings: {
      Bridge: '', SandboxID: '', SandboxKey: '', Ports: {}, HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
      Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '',
      Networks: { [net]: { NetworkID: net, EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '' } },
    },
  };
}

export function imageJSON(i: ImageRecord, tags: string[]): Record<string, unknown> {
  return {
    Id: i.Id,
    RepoTags: tags,
    RepoDigests: [],
    Parent: '',
    Comment: i.Comment,
    Created: i.Created,
    DockerVersion: '',
    Author: '',
    Config: {
      Hostname: '', Domainname: '', User: i.Config.User ?? '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
      ExposedPorts: i.Config.ExposedPorts, Tty: false, OpenStdin: false, StdinOnce: false, Env: i.Config.Env ?? null,
      Cmd: i.Config.Cmd ?? null, Image: '', Volumes: i.Config.Volumes ?? null, WorkingDir: i.Config.WorkingDir ?? '',
      Entrypoint: i.Config.Entrypoint ?? null, OnBuild: i.Config.OnBuild ?? null, Labels: i.Config.Labels ?? null,
      StopSignal: i.Config.StopSignal,
    },
    Architecture: i.Architecture,
    Os: i.Os,
    Size: i.Size,
    GraphDriver: { Data: { UpperDir: i.rootfsDir }, Name: 'overlay' },
    RootFS: i.RootFS,
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  };
}
