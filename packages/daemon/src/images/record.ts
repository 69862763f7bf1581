/** An image as berthd records it: Docker's image inspect fields. */
import type { ImageConfig } from '../config/docker-types.js';

export interface ImageRecord {
  /** "sha256:<hex of the config JSON>". */
  Id: string;
  Created: string;
  Comment: string;
  Architecture: string;
  Os: string;
  Size: number;
  Config: ImageConfig;
  RootFS: { Type: 'layers'; Layers: string[] };
  /** berthd's: the unpacked root (the overlay's lower dir). */
  rootfsDir: string;
}
