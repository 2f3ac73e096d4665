/** An error the local endpoint answers with, in the wire format of the service's protocol. */
export class AwsServiceError extends Error {
  constructor(
    /** AWS error code, e.g. `ClientException`, `ParameterNotFound`, `AccessDeniedException`. */
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'AwsServiceError';
  }
}
