import { Controller, Get, HttpException, HttpStatus } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SessionRegistry } from '../transport/session-registry.service.js';

/** Liveness/readiness for load balancers and docker-compose health checks. */
@Controller()
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sessions: SessionRegistry,
  ) {}

  @Get('healthz')
  async health(): Promise<{ status: 'ok'; database: 'ok'; sessions: number }> {
    try {
      await this.dataSource.query('SELECT 1');
    } catch {
      throw new HttpException(
        { status: 'error', database: 'unavailable' },
        HttpStatus.SERVICE_UNAVAILABLE,
      );
    }
    return { status: 'ok', database: 'ok', sessions: this.sessions.size };
  }
}
