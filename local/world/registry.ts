import { createHash } from 'node:crypto';

/**
 * A container registry's tags, locally: pushing an image to a tag gives it a new digest; ECS resolves tags
 * through this at deployment start.
 */
export class ImageRegistry {
  private readonly tags = new Map<string, string>();

  /** Pushes new content to `repo:tag`; returns its digest. */
  push(reference: string, content = crypto.randomUUID()): string {
    const digest = `sha256:${createHash('sha256').update(`${reference}\n${content}`).digest('hex')}`;
    this.tags.set(reference, digest);
    return digest;
  }

  /** The digest an image reference runs as: a digest reference is itself; a tag is what it points at now. */
  resolve(image: string): string {
    const at = image.indexOf('@');
    if (at >= 0) return image.slice(at + 1);
    const reference = /:[^/]+$/.test(image) ? image : `${image}:latest`;
    return this.tags.get(reference) ?? this.push(reference);
  }
}
