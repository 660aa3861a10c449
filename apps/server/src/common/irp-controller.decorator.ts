import { Controller, UseFilters, applyDecorators } from '@nestjs/common';
import { IrpExceptionFilter } from './irp-exception.filter.js';

/**
 * Marks a class holding IRP `@MessagePattern` handlers. It attaches the filter that
 * hands typed errors (DomainError, IrpProtocolError) to the transport unchanged.
 *
 * Why per controller: Nest 12's `connectMicroservice` builds the handlers at once, so
 * a global filter registered on the microservice afterwards never applies, and a
 * global filter on the application would also catch HTTP errors.
 */
export function IrpController(): ClassDecorator {
  return applyDecorators(Controller(), UseFilters(new IrpExceptionFilter()));
}
