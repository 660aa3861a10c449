import { Module } from '@nestjs/common';
import { AuditService } from './audit.service.js';

/** The append-only audit log (spec §13). Features write through {@link AuditService}. */
@Module({ providers: [AuditService], exports: [AuditService] })
export class AuditModule {}
