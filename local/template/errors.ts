/**
 * Errors of loading a cloud assembly as a deployed app. Each names itself with a string, so the name survives
 * minification.
 *
 * @module
 */

/** Thrown when the cloud assembly is missing a file or a file is not what CDK writes. */
export class CloudAssemblyError extends Error {
  override readonly name = 'CloudAssemblyError';
}

/** Thrown when the stack to load is not named and there are several, or the named one does not exist. */
export class StackSelectionError extends Error {
  override readonly name = 'StackSelectionError';
  /** The stacks the assembly holds (artifact ids). */
  readonly choices: readonly string[];

  constructor(message: string, choices: readonly string[]) {
    super(`${message}; stacks in the assembly: ${choices.length > 0 ? choices.join(', ') : '(none)'}`);
    this.choices = choices;
  }
}

/**
 * Thrown when the stack was synthesized for a concrete account or region other than the one asked for: its
 * template then holds ARNs of the other environment, and a local world built from it would disagree with
 * itself.
 */
export class StackEnvironmentMismatchError extends Error {
  override readonly name = 'StackEnvironmentMismatchError';
}

/** Thrown for template features the local world does not model (conditions). */
export class UnsupportedTemplateFeatureError extends Error {
  override readonly name = 'UnsupportedTemplateFeatureError';
}

/** Thrown when a resource's name depends, through other resources' names, on itself. */
export class CircularNameReferenceError extends Error {
  override readonly name = 'CircularNameReferenceError';
}

/** Thrown when a function's code cannot be found where its handler says it is. */
export class FunctionAssetError extends Error {
  override readonly name = 'FunctionAssetError';
  /** Logical id of the function. */
  readonly logicalId: string;
  /** Absolute paths that were looked for. */
  readonly lookedFor: readonly string[];

  constructor(logicalId: string, message: string, lookedFor: readonly string[] = []) {
    super(`function ${logicalId}: ${message}`);
    this.logicalId = logicalId;
    this.lookedFor = lookedFor;
  }
}
