import { type ArgumentsHost, Catch, type RpcExceptionFilter } from '@nestjs/common';
import { type Observable, throwError } from 'rxjs';

/**
 * Hands every exception of an IRP handler to the transport unchanged, so that the
 * transport renders typed errors (IrpProtocolError, DomainError) to their result code
 * instead of Nest's generic "Internal server error".
 */
@Catch()
export class IrpExceptionFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => exception);
  }
}
