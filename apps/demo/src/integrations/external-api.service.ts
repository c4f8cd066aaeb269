import { Injectable } from '@nestjs/common';

/** Stand-in for a partner's HTTP API that can be down. */
@Injectable()
export class ExternalApiService {
  /** Whether the API answers. It starts down, so the story can show retries and a dead letter. */
  available = false;

  /**
   * Calls the API.
   * @throws Error while the API is not {@link available}.
   */
  async call(endpoint: string): Promise<{ status: number; endpoint: string }> {
    if (!this.available) throw new Error(`503 Service Unavailable from ${endpoint}`);
    return { status: 200, endpoint };
  }
}
