import { Injectable, inject } from '@angular/core';
import { Client, createClient } from '@connectrpc/connect';
import { AdminService } from '@gen/portico/admin/v1/admin_pb';
import { ApiKeyService } from '@gen/portico/apikey/v1/apikey_pb';
import { IdentityService } from '@gen/portico/identity/v1/identity_pb';
import { InferenceService } from '@gen/portico/inference/v1/inference_pb';
import { TRANSPORT } from './transport';

/** The typed Connect clients of Portico's services, all on the one transport. */
@Injectable({ providedIn: 'root' })
export class Api {
  private readonly transport = inject(TRANSPORT);
  readonly identity: Client<typeof IdentityService> = createClient(IdentityService, this.transport);
  readonly inference: Client<typeof InferenceService> = createClient(InferenceService, this.transport);
  readonly admin: Client<typeof AdminService> = createClient(AdminService, this.transport);
  readonly keys: Client<typeof ApiKeyService> = createClient(ApiKeyService, this.transport);
}
