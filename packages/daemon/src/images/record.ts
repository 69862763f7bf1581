/** An image as berthd records it: Docker's image inspect fields, and where berth-containerd keeps it. */
import type { ImageConfig } from '../config/docker-types.js';

export interface ImageRecord {
  /** "sha256:<hex of the config JSON>" (the config blob's digest, as Docker's image ID). */
  Id: string;
  Created: string;
  Comment: string;
  Architecture: string;
  Os: string;
  Size: number;
  Config: ImageConfig;
  RootFS: { Type: 'layers'; Layers: string[] };
  /** The top layer's committed snapshot in berth-containerd (its chain ID): a container's parent. */
  chainId: string;
  /** The manifest's digest: the target of the image record in berth-containerd. */
  manifest: string;
  /** The top layer's directory in berth-containerd's snapshotter (inspect's GraphDriver). */
  rootfsDir: string;
}
