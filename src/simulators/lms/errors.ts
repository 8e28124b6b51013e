/**
 * A failure the simulator reports to its caller: `status` and an OAuth/LTI-style `code` for JSON
 * answers, and a Spanish `message` for HTML pages.
 */
export class SimError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SimError';
  }
}
