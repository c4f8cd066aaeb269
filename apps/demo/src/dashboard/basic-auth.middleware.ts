import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basicAuthAccess } from './dashboard-users.js';

/**
 * Asks the browser for a user and password (HTTP Basic) on the dashboard's routes until it sends
 * known ones; the dashboard's `access` function then tells admin from viewer.
 */
@Injectable()
export class BasicAuthMiddleware implements NestMiddleware {
  use(request: IncomingMessage, response: ServerResponse, next: () => void): void {
    if (basicAuthAccess(request.headers.authorization) !== 'none') return next();
    response.statusCode = 401;
    response.setHeader('WWW-Authenticate', 'Basic realm="Scheduled commands dashboard"');
    response.setHeader('Content-Type', 'text/plain; charset=utf-8');
    response.end('Sign in to see the dashboard.');
  }
}
